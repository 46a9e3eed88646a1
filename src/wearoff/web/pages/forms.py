"""Reading forms and answering them: fields as text, flash messages, safe redirects."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as text fields (files and repeated fields: the first value)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A message shown once on the next page."""
    request.session.setdefault("flash", [])
    request.session["flash"] = [*request.session["flash"], {"kind": kind, "text": message}][-5:]


def take_flashes(request: Request) -> list[dict[str, str]]:
    return request.session.pop("flash", [])


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to go to after sign-in (anything else goes to ``default``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def redirect(path: str) -> RedirectResponse:
    """See-other redirect after a successful form post."""
    return RedirectResponse(path, status_code=303)
