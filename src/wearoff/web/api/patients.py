"""Patients: list and search, add, show, correct demographics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from wearoff.web.auth import ApiActor, DbSession
from wearoff.web.schemas.patients import PatientCreate, PatientList, PatientListItem, PatientPublic, PatientUpdate
from wearoff.web.services import patients

router = APIRouter(prefix="/patients", tags=["patients"])


@router.get("", response_model=PatientList)
def list_patients(
    actor: ApiActor,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=64, description="Part of the patient id")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> PatientList:
    """The clinic's patients (search by part of the id), by id."""
    items, total = patients.search_patients(session, actor, q, limit=limit, offset=offset)
    return PatientList(items=[PatientListItem.model_validate(i) for i in items], total=total)


@router.post("", response_model=PatientPublic, status_code=status.HTTP_201_CREATED)
def create_patient(body: PatientCreate, actor: ApiActor, session: DbSession) -> PatientPublic:
    """Add a patient to the clinic."""
    info = patients.create_patient(session, actor, body.patient_id, body.sex, body.birth_year, body.activity)
    return PatientPublic.model_validate(info)


@router.get("/{patient_id}", response_model=PatientPublic)
def get_patient(patient_id: str, actor: ApiActor, session: DbSession) -> PatientPublic:
    """One patient's demographics."""
    return PatientPublic.model_validate(patients.get_patient(session, actor, patient_id))


@router.patch("/{patient_id}", response_model=PatientPublic)
def update_patient(patient_id: str, body: PatientUpdate, actor: ApiActor, session: DbSession) -> PatientPublic:
    """Correct demographics; the old values are kept as amendments with the reason."""
    changes = body.model_dump(exclude={"reason"}, exclude_none=True)
    return PatientPublic.model_validate(patients.update_patient(session, actor, patient_id, changes, body.reason))
