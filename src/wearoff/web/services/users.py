"""Users, sign-in (with its throttle) and API tokens."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from wearoff.records.models import ROLES, ApiToken, Clinic, LoginAttempt, User, utcnow
from wearoff.records.repository import get_or_create_clinic
from wearoff.web import security
from wearoff.web.actor import ROLE_LABELS, Actor
from wearoff.web.errors import InvalidInputError, NotAuthenticatedError, NotFoundError, ThrottledError
from wearoff.web.services import audit

MIN_PASSWORD = 10


def actor_for(user: User) -> Actor:
    """The :class:`Actor` of a stored user."""
    return Actor(user.id, user.username, user.display_name, user.role, user.clinic_id, user.clinic.name)


def _clean_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 64 or any(not (c.isalnum() or c in "._-@") for c in name):
        raise InvalidInputError.one("username", "use 1-64 letters, digits, dots, dashes, underscores or @")
    return name


def create_user(
    session: Session,
    clinic: str,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    *,
    by: Actor | None = None,
) -> User:
    """Add a user to ``clinic`` (created if new). ``by`` is the administrator adding them (None from the command
    line or the demo seed)."""
    if by is not None:
        by.require("users.manage")
        clinic = by.clinic
    name = _clean_username(username)
    if role not in ROLES:
        raise InvalidInputError.one("role", f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError.one("password", f"a password needs at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise InvalidInputError.one("username", f"the user name {name!r} is taken")
    shown = (display_name or name).strip()[:100] or name
    owner = get_or_create_clinic(session, clinic)
    user = User(
        clinic_id=owner.id,
        username=name,
        display_name=shown,
        role=role,
        password_hash=security.hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        by,
        "create",
        "user",
        name,
        after={"username": name, "display_name": shown, "role": role},
        clinic_id=owner.id,
        username="system",
    )
    return user


def list_users(session: Session, actor: Actor) -> list[User]:
    """The clinic's users (administrators only)."""
    actor.require("users.manage")
    return list(session.scalars(select(User).where(User.clinic_id == actor.clinic_id).order_by(User.username)))


ADDRESS_FAILURE_FACTOR = 4
"""Failures allowed from one address over all user names, as a multiple of those allowed for one user name:
guessing many accounts from one place is throttled too."""


def _failures(session: Session, username: str | None, ip: str, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    """Failed attempts from ``ip`` since ``since`` (for ``username``, or for every user name when None), and
    the oldest of them."""
    conditions = [LoginAttempt.ip == ip, LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at >= since]
    if username is not None:
        conditions.append(LoginAttempt.username == username)
    row = session.execute(select(func.count(), func.min(LoginAttempt.attempted_at)).where(*conditions)).one()
    return int(row[0]), row[1]


def _throttle(failures: int, oldest: dt.datetime | None, now: dt.datetime, window_minutes: int, what: str) -> None:
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    window = dt.timedelta(minutes=window_minutes)
    wait = max(1, math.ceil(((oldest or now) + window - now).total_seconds()))
    minutes = max(1, math.ceil(wait / 60))
    raise ThrottledError(
        f"too many failed sign-ins {what}: {failures} in {window_minutes} minutes. "
        f"Try again in about {minutes} minute{'s' if minutes != 1 else ''}, or ask an administrator.",
        wait,
    )


def authenticate(
    session: Session, username: str, password: str, ip: str, *, allowed: int = 5, window_minutes: int = 15
) -> User:
    """The user with these credentials; every attempt is recorded.

    After ``allowed`` failures for the same user name from the same address within ``window_minutes``, or
    :data:`ADDRESS_FAILURE_FACTOR` times as many from the address over all user names, further attempts are
    refused with :class:`ThrottledError` (HTTP 429) until the oldest failure leaves the window, whatever the
    password. Wrong credentials raise :class:`NotAuthenticatedError` without saying which part was wrong.
    """
    name = username.strip()[:64]
    ip = (ip or "unknown")[:64]
    now = utcnow()
    since = now - dt.timedelta(minutes=window_minutes)
    failures, oldest = _failures(session, name, ip, since)
    if failures >= allowed:
        _throttle(failures, oldest, now, window_minutes, f"for {name!r} from this address")
    failures, oldest = _failures(session, None, ip, since)
    if failures >= ADDRESS_FAILURE_FACTOR * allowed:
        _throttle(failures, oldest, now, window_minutes, "from this address")
    user = session.scalar(select(User).where(User.username == name)) if name and "\x00" not in name else None
    ok = security.verify_password(user.password_hash if user else None, password) and bool(user and user.active)
    if not ok or user is None:
        _record_failure(session, name, ip, now)
        raise NotAuthenticatedError("wrong user name or password")
    session.add(LoginAttempt(username=name, ip=ip, attempted_at=now, succeeded=True))
    session.flush()
    return user


def _record_failure(session: Session, username: str, ip: str, at: dt.datetime) -> None:
    """Store a failed attempt in a transaction of its own: the request's transaction is rolled back with the
    refusal, the attempt must stay (it is what the throttle counts)."""
    with Session(session.get_bind()) as own:
        own.add(LoginAttempt(username=username, ip=ip, attempted_at=at, succeeded=False))
        own.commit()


def user_by_id(session: Session, user_id: int) -> User | None:
    """The active user with this id, or None."""
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: ``token`` is shown once and never stored."""

    id: int
    name: str
    prefix: str
    token: str
    created_at: dt.datetime


def issue_token(session: Session, user: User, name: str, *, by: Actor | None = None) -> IssuedToken:
    """A new API token for ``user`` (only its digest is stored)."""
    label = name.strip()
    if not label or len(label) > 100 or "\x00" in label:
        raise InvalidInputError.one("name", "name the token (1-100 characters), e.g. the script or machine using it")
    token = security.new_api_token()
    row = ApiToken(user_id=user.id, name=label, prefix=token[:10], token_hash=security.token_digest(token))
    session.add(row)
    session.flush()
    audit.record(
        session,
        by or actor_for(user),
        "create",
        "api_token",
        str(row.id),
        after={"user": user.username, "name": label, "prefix": row.prefix},
    )
    return IssuedToken(row.id, label, row.prefix, token, row.created_at)


def tokens_of(session: Session, actor: Actor) -> list[ApiToken]:
    """The signed-in user's tokens (their digests are never shown)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id.desc())))


def revoke_token(session: Session, actor: Actor, token_id: int) -> None:
    """Revoke one of the signed-in user's tokens."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != actor.user_id:
        raise NotFoundError(f"no API token {token_id} of yours")
    if not row.revoked:
        row.revoked = True
        session.flush()
        audit.record(
            session, actor, "revoke", "api_token", str(row.id), before={"revoked": False}, after={"revoked": True}
        )


NEW_TOKEN = "create a new one (POST /api/v1/auth/token, or the account page)"


TOKEN_OWNER = (
    select(
        User.id.label("user_id"),
        User.username,
        User.display_name,
        User.role,
        User.clinic_id,
        Clinic.name.label("clinic"),
    )
    .join(ApiToken, ApiToken.user_id == User.id)
    .join(Clinic, Clinic.id == User.clinic_id)
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked.is_(False), User.active.is_(True))
)
"""The active owner of an unrevoked token by its digest, as the fields of an :class:`Actor`: built once (every API
request runs it)."""


def actor_for_token(connection: Connection, token: str) -> Actor:
    """The :class:`Actor` of the active user owning this (unrevoked) token, else :class:`NotAuthenticatedError`.

    One indexed query of token, user and clinic columns on a plain connection: every API request asks it, and
    the ORM's identity map and unit of work would cost more than the query itself."""
    if not token.startswith(security.TOKEN_PREFIX) or len(token) > 200:
        raise NotAuthenticatedError(f"the API token is not valid; {NEW_TOKEN}")
    row = connection.execute(TOKEN_OWNER, {"digest": security.token_digest(token)}).first()
    if row is None:
        raise NotAuthenticatedError(f"the API token is not valid or was revoked; {NEW_TOKEN}")
    return Actor(**row._mapping)


__all__ = ["ROLE_LABELS", "actor_for", "actor_for_token", "authenticate", "create_user", "issue_token"]


def user_exists(session: Session, username: str) -> bool:
    """Whether a user (of any clinic) has this user name."""
    return session.scalar(select(User.id).where(User.username == username.strip())) is not None
