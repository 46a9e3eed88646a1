"""How long it lasts here."""

from __future__ import annotations

from fastapi import APIRouter

from wearoff.web.auth import ApiActor, DbSession
from wearoff.web.schemas.admin import AnalyticsPublic
from wearoff.web.services import analytics

router = APIRouter(tags=["analytics"])


@router.get("/analytics", response_model=AnalyticsPublic)
def clinic_analytics(actor: ApiActor, session: DbSession) -> AnalyticsPublic:
    """Observed wear-off in the clinic's records by area, product and injector (median days to the first
    clinician score back at baseline, with counts)."""
    return AnalyticsPublic.model_validate(analytics.durations(session, actor))
