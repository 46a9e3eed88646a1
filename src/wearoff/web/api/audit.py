"""The audit log (read only: there is no route to change or delete it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from wearoff.web.auth import ApiActor, DbSession
from wearoff.web.schemas.admin import AuditEntryPublic, AuditPage
from wearoff.web.services import audit

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=AuditPage)
def audit_log(
    actor: ApiActor,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPage:
    """Every write in the clinic, newest first: who, when, what, before and after (administrators only)."""
    items, total = audit.entries(session, actor, limit=limit, offset=offset)
    return AuditPage(items=[AuditEntryPublic.model_validate(i) for i in items], total=total)
