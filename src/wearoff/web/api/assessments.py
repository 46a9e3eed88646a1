"""Follow-up scores of a patient."""

from __future__ import annotations

from fastapi import APIRouter, status

from wearoff.web.auth import ApiActor, DbSession
from wearoff.web.schemas.assessments import AssessmentCreate, AssessmentPublic, AssessmentVoid
from wearoff.web.services import assessments

router = APIRouter(prefix="/patients/{patient_id}/assessments", tags=["assessments"])


@router.get("", response_model=list[AssessmentPublic])
def list_assessments(patient_id: str, actor: ApiActor, session: DbSession) -> list[AssessmentPublic]:
    """The patient's scores, newest first."""
    return [AssessmentPublic.model_validate(a) for a in assessments.list_for(session, actor, patient_id)]


@router.post("", response_model=AssessmentPublic, status_code=status.HTTP_201_CREATED)
def create_assessment(patient_id: str, body: AssessmentCreate, actor: ApiActor, session: DbSession) -> AssessmentPublic:
    """Record a clinician's score of one area."""
    record = assessments.create(
        session, actor, patient_id, body.area, body.date, body.severity, severity_rest=body.severity_rest
    )
    return AssessmentPublic.model_validate(record)


@router.post("/void", response_model=AssessmentPublic)
def void_assessment(patient_id: str, body: AssessmentVoid, actor: ApiActor, session: DbSession) -> AssessmentPublic:
    """Void a score entered in error (named by area, date and rater), with the reason: it is kept (and audited)
    but leaves the patient's history and forecasts. Returns the score as it was."""
    record = assessments.void(session, actor, patient_id, body.area, body.date, body.rater, body.reason)
    return AssessmentPublic.model_validate(record)
