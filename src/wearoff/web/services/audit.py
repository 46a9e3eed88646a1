"""The audit log: every write, who made it, when, and the record before and after. Append-only."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wearoff.records.models import AuditLog, utcnow
from wearoff.web.actor import Actor


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses and mappings recursively, dates as ISO text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


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
    """Add one audit row in the caller's transaction (so it is stored exactly when the write is)."""
    row = AuditLog(
        at=utcnow(),
        clinic_id=actor.clinic_id if actor else clinic_id,
        user_id=actor.user_id if actor else None,
        username=(actor.username if actor else username or "anonymous")[:64],
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id)[:100],
        before=jsonable(before),
        after=jsonable(after),
    )
    session.add(row)
    session.flush()
    return row


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
