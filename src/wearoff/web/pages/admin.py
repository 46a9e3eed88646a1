"""Administration: the audit log, users, and each user's API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wearoff.records.models import ROLES
from wearoff.web.actor import ROLE_LABELS
from wearoff.web.auth import CsrfChecked, DbSession, PageActor
from wearoff.web.errors import InvalidInputError
from wearoff.web.pages.forms import flash, form_fields, redirect
from wearoff.web.pages.rendering import render
from wearoff.web.services import audit, users

router = APIRouter()


@router.get("/audit")
def audit_page(
    request: Request, actor: PageActor, session: DbSession, page: Annotated[int, Query(ge=1, le=100000)] = 1
) -> Response:
    per_page = 50
    items, total = audit.entries(session, actor, limit=per_page, offset=(page - 1) * per_page)
    return render(
        request, "audit.html", {"items": items, "total": total, "page": page, "pages": max(1, -(-total // per_page))}
    )


def _users_context(session: DbSession, actor: PageActor, values: dict, errors: dict) -> dict:
    return {
        "users": users.list_users(session, actor),
        "roles": [(r, ROLE_LABELS[r]) for r in ROLES],
        "values": values,
        "errors": errors,
    }


@router.get("/users")
def users_page(request: Request, actor: PageActor, session: DbSession) -> Response:
    return render(request, "users.html", _users_context(session, actor, {"role": "injector"}, {}))


@router.post("/users", dependencies=[CsrfChecked])
async def add_user(request: Request, actor: PageActor, session: DbSession) -> Response:
    fields = await form_fields(request)
    try:
        with session.begin_nested():
            user = users.create_user(
                session,
                actor.clinic,
                fields.get("username", ""),
                fields.get("password", ""),
                fields.get("role", ""),
                fields.get("display_name"),
                by=actor,
            )
    except InvalidInputError as exc:
        values = {k: v for k, v in fields.items() if k != "password"}
        return render(request, "users.html", _users_context(session, actor, values, exc.by_field()), status_code=422)
    flash(request, f"User {user.username} added.")
    return redirect("/users")


@router.get("/account")
def account_page(request: Request, actor: PageActor, session: DbSession) -> Response:
    return render(request, "account.html", {"tokens": users.tokens_of(session, actor), "issued": None, "errors": {}})


@router.post("/account/tokens", dependencies=[CsrfChecked])
async def new_token(request: Request, actor: PageActor, session: DbSession) -> Response:
    fields = await form_fields(request)
    user = users.user_by_id(session, actor.user_id or 0)
    try:
        issued = users.issue_token(session, user, fields.get("name", ""), by=actor) if user else None
    except InvalidInputError as exc:
        return render(
            request,
            "account.html",
            {"tokens": users.tokens_of(session, actor), "issued": None, "errors": exc.by_field()},
            status_code=422,
        )
    return render(request, "account.html", {"tokens": users.tokens_of(session, actor), "issued": issued, "errors": {}})


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfChecked])
def revoke(request: Request, token_id: int, actor: PageActor, session: DbSession) -> Response:
    users.revoke_token(session, actor, token_id)
    flash(request, "Token revoked.")
    return redirect("/account")
