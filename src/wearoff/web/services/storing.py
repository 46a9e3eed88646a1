"""Writes of single records through the records import's checks (:func:`wearoff.records.csv_io.store_rows`), so
a form, an API call and a CSV import accept and refuse exactly the same values, and a refusal stores nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from wearoff.records import repository
from wearoff.records import validation as v
from wearoff.records.csv_io import ImportReport, RowSource, RowTable, store_rows
from wearoff.records.errors import RecordsError, RecordsImportError
from wearoff.records.models import Base
from wearoff.web.actor import Actor
from wearoff.web.errors import FieldProblem, InvalidInputError
from wearoff.web.services import audit

SOURCE = RowSource(patients="this clinic's patients", add_patient="add the patient first")


def text(value: Any) -> str:
    """A form or API value as the text an import row holds (``""`` for missing; dates ISO; numbers plain)."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def table(kind: str, row: dict[str, Any]) -> RowTable:
    """One row of ``kind`` (patients, treatments, assessments) as an import table."""
    clean = {k: text(v) for k, v in row.items()}
    return RowTable(file=kind, columns=list(clean), rows=[(2, clean)])


def store(
    session: Session,
    actor: Actor,
    *,
    patients: dict[str, Any] | None = None,
    treatments: dict[str, Any] | None = None,
    assessments: dict[str, Any] | None = None,
    today: dt.date | None = None,
) -> ImportReport:
    """Check and store one row (or a few rows of different kinds) in the actor's clinic, all or nothing; a bad
    value raises :class:`InvalidInputError` naming its field."""
    report = ImportReport(clinic=actor.clinic, folder=Path("."))
    try:
        return store_rows(
            session,
            report,
            table("patients", patients) if patients is not None else None,
            table("treatments", treatments) if treatments is not None else None,
            table("assessments", assessments) if assessments is not None else None,
            source=SOURCE,
            today=today,
            rows_patients_only=True,
        )
    except RecordsImportError as exc:
        raise InvalidInputError([FieldProblem(e.column, e.message) for e in exc.errors]) from None
    except RecordsError as exc:
        raise InvalidInputError.one("", str(exc)) from None


def reason_text(reason: str | None, what: str) -> str:
    """The reason given for a correction or a void: required, printable, at most the records' short-text limit;
    ``what`` completes "say why the ..." in the refusal."""
    try:
        why = v.parse_text(reason, "reason")
    except v.FieldError as exc:
        raise InvalidInputError.one("reason", str(exc)) from exc
    if why is None or "\x00" in why:
        raise InvalidInputError.one("reason", f"say why the {what}, in printable text")
    return why


def void_row(
    session: Session, actor: Actor, row: Base, entity: str, entity_id: str, before: object, reason: str
) -> None:
    """Void ``row`` (:func:`wearoff.records.repository.void`: kept, with the reason and who voided it) and write
    its audit entry, together or not at all."""
    why = reason_text(reason, f"{entity} is voided")
    with session.begin_nested():
        repository.void(session, row, why, actor.username)
        audit.record(session, actor, "void", entity, entity_id, before=before, after={"reason": why})
