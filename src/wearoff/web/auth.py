"""Who is asking: API tokens (``Authorization: Bearer``) for the API, the signed session cookie for the pages,
and the CSRF check of every page form (HTMX requests included)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from wearoff.web import security
from wearoff.web.actor import Actor
from wearoff.web.database import TokenLookups, get_session
from wearoff.web.errors import ForbiddenError, NotAuthenticatedError
from wearoff.web.services import users

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SESSION_USER = "uid"
SESSION_CSRF = "csrf"

bearer = HTTPBearer(auto_error=False, description="An API token of a user (see /account or POST /api/v1/auth/token).")
DbSession = Annotated[Session, Depends(get_session, scope="function")]
"""The request's session; its transaction commits before the response is sent (so a redirect or a 201 is only
sent for a stored write)."""


async def api_actor(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Actor:
    """The user of the request's API token; 401 without a valid one. The token is looked up on a connection of its
    own (:class:`~wearoff.web.database.TokenLookups`: on the event loop for an SQLite file, in a worker thread for
    a database server), so a route that needs no database (a forecast) holds no connection while it computes."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticatedError("send an API token: Authorization: Bearer <token>")
    lookups: TokenLookups = request.app.state.token_lookups

    def lookup() -> Actor:
        with lookups.engine.connect() as connection:
            return users.actor_for_token(connection, credentials.credentials)

    return lookup() if lookups.on_loop else await run_in_threadpool(lookup)


class LoginRequiredError(Exception):
    """A page needs a signed-in user: the browser is sent to the login page."""


def csrf_token(request: Request) -> str:
    """The session's synchronizer token (created on first use)."""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = security.new_csrf_token()
        request.session[SESSION_CSRF] = token
    return token


def page_actor(request: Request, session: DbSession) -> Actor:
    """The signed-in user of the session cookie, else :class:`LoginRequiredError`."""
    user_id = request.session.get(SESSION_USER)
    user = users.user_by_id(session, int(user_id)) if isinstance(user_id, int) else None
    if user is None:
        raise LoginRequiredError()
    actor = users.actor_for(user)
    request.state.actor = actor
    return actor


async def check_csrf(request: Request) -> None:
    """Refuse (403) a form post whose CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``) is not
    the session's."""
    expected = request.session.get(SESSION_CSRF)
    given = request.headers.get(CSRF_HEADER)
    if not given:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not security.same_token(expected, given):
        raise ForbiddenError("the form's security token is missing or out of date; reload the page and try again")


PageActor = Annotated[Actor, Depends(page_actor)]
ApiActor = Annotated[Actor, Depends(api_actor)]
CsrfChecked = Depends(check_csrf)
