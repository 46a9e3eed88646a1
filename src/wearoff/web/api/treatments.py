"""Treatments of a patient: list, check before saving, chart."""

from __future__ import annotations

from fastapi import APIRouter, status

from wearoff.web.auth import ApiActor, DbSession
from wearoff.web.schemas.treatments import (
    FlagPublic,
    TreatmentCheckPublic,
    TreatmentCreate,
    TreatmentCreated,
    TreatmentPublic,
    VoidCreate,
)
from wearoff.web.services import treatments
from wearoff.web.services.treatments import TreatmentInput

router = APIRouter(prefix="/patients/{patient_id}/treatments", tags=["treatments"])


def _input(body: TreatmentCreate) -> TreatmentInput:
    data = body.model_dump()
    return TreatmentInput(**data)


@router.get("", response_model=list[TreatmentPublic])
def list_treatments(patient_id: str, actor: ApiActor, session: DbSession) -> list[TreatmentPublic]:
    """The patient's treatments, newest first."""
    return [TreatmentPublic.model_validate(t) for t in treatments.list_for(session, actor, patient_id)]


@router.post("/check", response_model=TreatmentCheckPublic)
def check_treatment(
    patient_id: str, body: TreatmentCreate, actor: ApiActor, session: DbSession
) -> TreatmentCheckPublic:
    """The safety guards' warnings for this treatment and the forecast it would get; stores nothing."""
    result = treatments.check(session, actor, patient_id, _input(body))
    plan = result.plan
    w = plan.forecast.wear_off_day if plan else None
    return TreatmentCheckPublic(
        warnings=[FlagPublic.model_validate(f) for f in result.flags],
        wear_off_day_median=w.median if w else None,
        wear_off_day_lower90=w.lower90 if w else None,
        wear_off_day_upper90=w.upper90 if w else None,
        rebook_from=plan.window.opens if plan else None,
        rebook_to=plan.window.closes if plan else None,
    )


@router.post("", response_model=TreatmentCreated, status_code=status.HTTP_201_CREATED)
def create_treatment(patient_id: str, body: TreatmentCreate, actor: ApiActor, session: DbSession) -> TreatmentCreated:
    """Chart a treatment (one area); the guards' warnings come back with it."""
    view, flags = treatments.create(session, actor, patient_id, _input(body))
    return TreatmentCreated(
        treatment=TreatmentPublic.model_validate(view), warnings=[FlagPublic.model_validate(f) for f in flags]
    )


@router.post("/{treatment_id}/void", response_model=TreatmentPublic)
def void_treatment(
    patient_id: str, treatment_id: str, body: VoidCreate, actor: ApiActor, session: DbSession
) -> TreatmentPublic:
    """Void a treatment entered in error, with the reason: it is kept (and audited) but leaves the patient's
    history and forecasts. Returns the treatment as it was."""
    return TreatmentPublic.model_validate(treatments.void(session, actor, patient_id, treatment_id, body.reason))
