"""Bookings: the front desk and clinicians book a patient's next visit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wearoff.records import validation as v
from wearoff.records.models import Appointment, Patient
from wearoff.web.actor import Actor
from wearoff.web.errors import FieldProblem, InvalidInputError
from wearoff.web.services import audit
from wearoff.web.services.patients import patient_row
from wearoff.web.services.storing import text

MAX_AHEAD_DAYS = 730
"""Bookings go at most two years ahead: beyond that a date is far more likely a typing slip than a plan (a choice of
the app, not a clinical rule)."""


@dataclass(frozen=True)
class AppointmentView:
    id: int
    patient_id: str
    date: dt.date
    note: str | None
    booked_by: str


def book(
    session: Session, actor: Actor, patient_id: str, date: object, note: object = None, *, today: dt.date | None = None
) -> AppointmentView:
    """Book a visit on ``date`` (today or within two years)."""
    actor.require("appointments.write")
    patient = patient_row(session, actor, patient_id)
    today = today or dt.date.today()
    problems = []
    day = None
    try:
        day = v.parse_date(text(date), "date", allow_future=True)
        if day < today:
            problems.append(FieldProblem("date", f"{day} is in the past; book today or later"))
        elif (day - today).days > MAX_AHEAD_DAYS:
            latest = today + dt.timedelta(days=MAX_AHEAD_DAYS)
            problems.append(FieldProblem("date", f"{day} is more than two years ahead; book on or before {latest}"))
    except v.FieldError as exc:
        problems.append(FieldProblem("date", str(exc)))
    try:
        clean_note = v.parse_text(text(note), "note", 200)
        if clean_note and not clean_note.isprintable():
            problems.append(FieldProblem("note", "the note must be printable text on one line"))
    except v.FieldError as exc:
        problems.append(FieldProblem("note", str(exc)))
        clean_note = None
    if problems or day is None:
        raise InvalidInputError(problems)
    row = Appointment(patient_id=patient.id, date=day, note=clean_note, booked_by=actor.display_name[:100])
    session.add(row)
    session.flush()
    view = AppointmentView(row.id, patient.external_id, day, clean_note, row.booked_by)
    audit.record(session, actor, "create", "appointment", str(row.id), after=view)
    return view


def upcoming(
    session: Session, actor: Actor, patient_id: str | None = None, *, from_day: dt.date | None = None
) -> list[AppointmentView]:
    """Booked visits from a day on (default today), of one patient or the whole clinic, soonest first."""
    actor.require("patients.read")
    query = (
        select(Appointment, Patient.external_id)
        .join(Patient, Appointment.patient_id == Patient.id)
        .where(Patient.clinic_id == actor.clinic_id, Appointment.voided.is_(False), Patient.voided.is_(False))
        .where(Appointment.date >= (from_day or dt.date.today()))
        .order_by(Appointment.date, Appointment.id)
    )
    if patient_id is not None:
        query = query.where(Appointment.patient_id == patient_row(session, actor, patient_id).id)
    return [AppointmentView(a.id, pid, a.date, a.note, a.booked_by) for a, pid in session.execute(query.limit(200))]
