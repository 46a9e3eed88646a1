"""The audit log: every write, who made it, when, and the record before and after. Append-only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wearoff.records.audit import jsonable, write
from wearoff.records.models import AuditLog
from wearoff.web.actor import Actor

__all__ = ["AuditEntry", "entries", "jsonable", "record"]


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: str | None,
    *,
    before: Any = None,
    after: Any = None,
    clinic_id: int | None = None,
    username: str | None = None,
) -> AuditLog:
    """Add one audit row for ``actor`` (or, without one, ``clinic_id`` and ``username``) in the caller's
    transaction (:func:`wearoff.records.audit.write`)."""
    return write(
        session,
        action,
        entity,
        entity_id,
        clinic_id=actor.clinic_id if actor else clinic_id,
        user_id=actor.user_id if actor else None,
        username=actor.username if actor else username or "anonymous",
        before=before,
        after=after,
    )


@dataclass(frozen=True)
class AuditEntry:
    """One audit row as shown to an administrator."""

    id: int
    at: dt.datetime
    username: str
    action: str
    entity: str
    entity_id: str | None
    before: Any
    after: Any


def entries(session: Session, actor: Actor, *, limit: int = 100, offset: int = 0) -> tuple[list[AuditEntry], int]:
    """The clinic's audit rows, newest first, and how many there are (administrators only)."""
    actor.require("audit.read")
    scope = AuditLog.clinic_id == actor.clinic_id
    total = session.scalar(select(func.count()).select_from(AuditLog).where(scope)) or 0
    rows = session.scalars(
        select(AuditLog).where(scope).order_by(AuditLog.id.desc()).limit(max(1, min(limit, 500))).offset(max(0, offset))
    )
    return [AuditEntry(r.id, r.at, r.username, r.action, r.entity, r.entity_id, r.before, r.after) for r in rows], total
