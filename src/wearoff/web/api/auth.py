"""API tokens: sign in for a token, and who the token belongs to."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from wearoff.web.api.responses import Problem
from wearoff.web.auth import ApiActor, DbSession
from wearoff.web.schemas.admin import MePublic, TokenCreate, TokenPublic
from wearoff.web.services import users

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenPublic,
    status_code=status.HTTP_201_CREATED,
    responses={429: {"model": Problem, "description": "Too many failed sign-ins"}},
)
def create_token(body: TokenCreate, request: Request, session: DbSession) -> TokenPublic:
    """Sign in with a user name and password and get a new API token (shown once). Five failures for a user
    name from one address within 15 minutes lock further attempts (429) until the window passes."""
    settings = request.app.state.settings
    user = users.authenticate(
        session,
        body.username,
        body.password,
        request.client.host if request.client else "unknown",
        allowed=settings.login_failures_allowed,
        window_minutes=settings.login_window_minutes,
    )
    issued = users.issue_token(session, user, body.name)
    return TokenPublic(token=issued.token, name=issued.name, prefix=issued.prefix, created_at=issued.created_at)


@router.get("/me", response_model=MePublic)
def me(actor: ApiActor) -> MePublic:
    """The token's user, role and clinic."""
    return MePublic(username=actor.username, display_name=actor.display_name, role=actor.role, clinic=actor.clinic)
