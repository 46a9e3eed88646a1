"""Bookings of a patient."""

from __future__ import annotations

from fastapi import APIRouter, status

from wearoff.web.auth import ApiActor, DbSession
from wearoff.web.schemas.admin import AppointmentCreate, AppointmentPublic
from wearoff.web.services import appointments

router = APIRouter(prefix="/patients/{patient_id}/appointments", tags=["appointments"])


@router.get("", response_model=list[AppointmentPublic])
def list_appointments(patient_id: str, actor: ApiActor, session: DbSession) -> list[AppointmentPublic]:
    """The patient's upcoming visits."""
    return [AppointmentPublic.model_validate(a) for a in appointments.upcoming(session, actor, patient_id)]


@router.post("", response_model=AppointmentPublic, status_code=status.HTTP_201_CREATED)
def book(patient_id: str, body: AppointmentCreate, actor: ApiActor, session: DbSession) -> AppointmentPublic:
    """Book a visit."""
    return AppointmentPublic.model_validate(appointments.book(session, actor, patient_id, body.date, body.note))
