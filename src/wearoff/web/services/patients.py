"""Patients of the user's clinic: search, add, show, correct demographics."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from wearoff.records import repository
from wearoff.records.errors import RecordsError
from wearoff.records.models import Injection, Patient, TreatmentSession
from wearoff.records.values import PatientInfo
from wearoff.web.actor import Actor
from wearoff.web.errors import InvalidInputError, NotFoundError
from wearoff.web.services import audit
from wearoff.web.services.storing import reason_text, store

DEMOGRAPHICS = ("sex", "birth_year", "activity")


@dataclass(frozen=True)
class PatientListing:
    """A patient in a list: demographics and their latest treatment date (None if never treated)."""

    patient_id: str
    sex: str
    birth_year: int
    activity: str
    last_treated: dt.date | None
    treatments: int


def valid_id(patient_id: str) -> bool:
    """Whether ``patient_id`` could be an id at all (1-64 printable characters)."""
    return 0 < len(patient_id) <= 64 and patient_id.isprintable()


def patient_row(session: Session, actor: Actor, patient_id: str) -> Patient:
    """The ORM row of the actor's clinic's live patient, else :class:`NotFoundError` (also for another clinic's)."""
    actor.require("patients.read")
    return find_patient(session, actor.clinic_id, patient_id)


def find_patient(session: Session, clinic_id: int, patient_id: str) -> Patient:
    """The clinic's live patient (no permission check: callers check), else :class:`NotFoundError`."""
    row = None
    if valid_id(patient_id):
        row = session.scalar(
            select(Patient).where(
                Patient.clinic_id == clinic_id, Patient.external_id == patient_id, Patient.voided.is_(False)
            )
        )
    if row is None:
        raise NotFoundError(f"no patient {patient_id!r} in this clinic")
    return row


def get_patient(session: Session, actor: Actor, patient_id: str) -> PatientInfo:
    """The patient's demographics."""
    row = patient_row(session, actor, patient_id)
    return PatientInfo(row.external_id, row.sex, row.birth_year, row.activity, row.voided)


def search_patients(
    session: Session, actor: Actor, query: str | None = None, *, limit: int = 50, offset: int = 0
) -> tuple[list[PatientListing], int]:
    """The clinic's live patients whose id contains ``query`` (case-insensitive), by id; and how many match."""
    actor.require("patients.read")
    where = [Patient.clinic_id == actor.clinic_id, Patient.voided.is_(False)]
    q = (query or "").strip()
    if q:
        if not q.isprintable():
            return [], 0
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(or_(func.lower(Patient.external_id).like(pattern, escape="\\")))
    total = session.scalar(select(func.count()).select_from(Patient).where(*where)) or 0
    latest = (
        select(
            TreatmentSession.patient_id.label("pid"),
            func.max(TreatmentSession.date).label("last"),
            func.count(Injection.id).label("n"),
        )
        .join(Injection, Injection.session_id == TreatmentSession.id)
        .where(TreatmentSession.voided.is_(False), Injection.voided.is_(False))
        .group_by(TreatmentSession.patient_id)
        .subquery()
    )
    rows = session.execute(
        select(Patient, latest.c.last, latest.c.n)
        .outerjoin(latest, latest.c.pid == Patient.id)
        .where(*where)
        .order_by(Patient.external_id)
        .limit(max(1, min(limit, 500)))
        .offset(max(0, offset))
    ).all()
    return [
        PatientListing(p.external_id, p.sex, p.birth_year, p.activity, last, int(n or 0)) for p, last, n in rows
    ], total


def create_patient(
    session: Session, actor: Actor, patient_id: str, sex: str, birth_year: int | str, activity: str
) -> PatientInfo:
    """Add a patient (checked as an import checks patients.csv); an id in use is refused."""
    actor.require("patients.write")
    pid = str(patient_id).strip()
    if pid and valid_id(pid) and repository.get_patient(session, pid, actor.clinic) is not None:
        raise InvalidInputError.one("patient_id", f"patient {pid!r} exists already in this clinic")
    if pid and not pid.isprintable():
        raise InvalidInputError.one("patient_id", "patient_id must be printable text")
    row = {"patient_id": pid, "sex": sex, "birth_year": birth_year, "activity": activity}
    store(session, actor, patients=row)
    info = get_patient(session, actor, pid)
    audit.record(session, actor, "create", "patient", pid, after=info)
    return info


def update_patient(
    session: Session, actor: Actor, patient_id: str, changes: dict[str, object], reason: str
) -> PatientInfo:
    """Correct demographics as amendments (the old values are kept); ``reason`` is required."""
    actor.require("patients.write")
    row = patient_row(session, actor, patient_id)
    before = get_patient(session, actor, patient_id)
    unknown = sorted(set(changes) - set(DEMOGRAPHICS))
    if unknown:
        raise InvalidInputError.one(unknown[0], f"only {', '.join(DEMOGRAPHICS)} can be corrected here")
    reason = reason_text(reason, "record is corrected")
    changed = {k: v for k, v in changes.items() if v is not None and v != getattr(row, k)}
    if not changed:
        raise InvalidInputError.one("", "nothing to change: the values are the stored ones")
    try:
        with session.begin_nested():
            for column, value in changed.items():
                repository.amend(session, row, column, value, reason, actor.username)
    except RecordsError as exc:
        message = str(exc)
        column = next((c for c in changed if f".{c}" in message), "")
        raise InvalidInputError.one(column, message.split(": ", 1)[-1]) from None
    after = get_patient(session, actor, patient_id)
    audit.record(
        session,
        actor,
        "amend",
        "patient",
        patient_id,
        before=before,
        after={**audit.jsonable(after), "reason": reason.strip()},
    )
    return after
