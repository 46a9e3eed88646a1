"""Follow-up scores: severity 0-3 at maximal contraction, by the clinician or by the patient."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from wearoff.records import repository
from wearoff.records.models import Assessment
from wearoff.records.values import AssessmentRecord
from wearoff.web.actor import Actor
from wearoff.web.errors import InvalidInputError, NotFoundError
from wearoff.web.services import audit
from wearoff.web.services.patients import find_patient, patient_row
from wearoff.web.services.storing import store, text, void_row

SEVERITY_WORDS = {
    0: "none: no line, even at the strongest frown or squint",
    1: "mild: a faint line at the strongest movement",
    2: "moderate: a clear line at the strongest movement",
    3: "severe: a deep line at the strongest movement",
}
"""Plain descriptions of the severity grades (at maximal contraction), as the patient's form shows them."""


def create(
    session: Session,
    actor: Actor,
    patient_id: str,
    area: object,
    date: object,
    severity: object,
    *,
    rater: str = "clinician",
    severity_rest: object = None,
    today: dt.date | None = None,
) -> AssessmentRecord:
    """Store one score (checked as an import checks assessments.csv). A clinician's score needs the right to
    write clinical records; a patient's comes through their signed follow-up link."""
    if actor.role != "patient":
        actor.require("clinical.write")
    elif rater != "patient":
        raise InvalidInputError.one("rater", "a follow-up link records the patient's own scores only")
    patient = find_patient(session, actor.clinic_id, patient_id)
    row = {
        "patient_id": patient.external_id,
        "area": area,
        "date": date,
        "severity": severity,
        "rater": rater,
        "severity_rest": severity_rest,
    }
    report = store(session, actor, assessments=row, today=today)
    if report.assessments_unchanged:
        raise InvalidInputError.one(
            "date",
            f"this {rater} score of {text(area)} on {text(date)} is recorded already; to correct it, void it first",
        )
    record = AssessmentRecord(
        dt.date.fromisoformat(text(date)),
        text(area),
        int(text(severity)),
        rater,
        int(text(severity_rest)) if text(severity_rest) else None,
    )
    audit.record(
        session,
        actor,
        "create",
        "assessment",
        f"{patient_id}/{record.area}/{record.date}/{rater}",
        after={**audit.jsonable(record), "patient_id": patient_id},
    )
    return record


def list_for(session: Session, actor: Actor, patient_id: str) -> list[AssessmentRecord]:
    """The patient's live scores, newest first."""
    actor.require("clinical.read")
    patient_row(session, actor, patient_id)
    history = repository.patient_history(session, patient_id, actor.clinic)
    scores = [a for area in history.areas.values() for a in area.assessments]
    return sorted(scores, key=lambda a: (a.date, a.area, a.rater), reverse=True)


def void(
    session: Session, actor: Actor, patient_id: str, area: str, date: dt.date, rater: str, reason: str
) -> AssessmentRecord:
    """Mark a score entered in error as voided (one score per patient, area, date and rater): kept with the reason
    and who voided it, out of the history and forecasts. ``reason`` is required."""
    actor.require("clinical.write")
    patient = patient_row(session, actor, patient_id)
    row = session.scalar(
        select(Assessment).where(
            Assessment.patient_id == patient.id,
            Assessment.area == area,
            Assessment.date == date,
            Assessment.rater == rater,
            Assessment.voided.is_(False),
        )
    )
    if row is None:
        raise NotFoundError(
            f"patient {patient_id} has no live {rater} score of {area} on {date}: it may be voided already; "
            "reload the patient's scores"
        )
    before = AssessmentRecord(row.date, row.area, row.severity, row.rater, row.severity_rest)
    void_row(session, actor, row, "assessment", f"{patient_id}/{area}/{date}/{rater}", before, reason)
    return before
