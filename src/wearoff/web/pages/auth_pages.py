"""Sign in and sign out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from wearoff.web import security
from wearoff.web.auth import SESSION_CSRF, SESSION_USER, DbSession, check_csrf, page_actor
from wearoff.web.errors import NotAuthenticatedError, ThrottledError
from wearoff.web.pages.forms import form_fields, redirect, safe_next
from wearoff.web.pages.rendering import render
from wearoff.web.services import users

router = APIRouter()


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": safe_next(next), "username": ""})


@router.post("/login", dependencies=[Depends(check_csrf)])
async def login(request: Request, session: DbSession) -> Response:
    fields = await form_fields(request)
    settings = request.app.state.settings
    username = fields.get("username", "")
    target = safe_next(fields.get("next"))
    try:
        user = users.authenticate(
            session,
            username,
            fields.get("password", ""),
            request.client.host if request.client else "unknown",
            allowed=settings.login_failures_allowed,
            window_minutes=settings.login_window_minutes,
        )
    except (NotAuthenticatedError, ThrottledError) as exc:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, ThrottledError) else None
        return render(
            request,
            "login.html",
            {"next": target, "username": username, "error": exc.message},
            status_code=exc.status_code,
            headers=headers,
        )
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_CSRF] = security.new_csrf_token()
    return redirect(target)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    request.session.clear()
    return redirect("/login")


__all__ = ["page_actor", "router"]
