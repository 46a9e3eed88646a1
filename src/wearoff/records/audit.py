"""Writing the audit log: one append-only row per write (who, when, what, the record before and after), in the
writer's own transaction so it is stored exactly when the write is. The web app, the command line and the demo seed
all write here; the web app's readers of the log are in :mod:`wearoff.web.services.audit`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from wearoff.records.csv_io import ImportReport
from wearoff.records.models import AuditLog, utcnow
from wearoff.records.repository import require_clinic
from wearoff.records.values import jsonable

__all__ = ["import_counts", "jsonable", "record_import", "write"]


def write(
    session: Session,
    action: str,
    entity: str,
    entity_id: str | None,
    *,
    clinic_id: int | None,
    username: str,
    user_id: int | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditLog:
    """Add one audit row in the caller's transaction."""
    row = AuditLog(
        at=utcnow(),
        clinic_id=clinic_id,
        user_id=user_id,
        username=username[:64],
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id)[:100],
        before=jsonable(before),
        after=jsonable(after),
    )
    session.add(row)
    session.flush()
    return row


def import_counts(report: ImportReport) -> dict[str, int]:
    """What an import added and found already stored, by kind of record."""
    return {
        "patients_added": report.patients_added,
        "patients_unchanged": report.patients_unchanged,
        "treatments_added": report.treatments_added,
        "treatments_unchanged": report.treatments_unchanged,
        "assessments_added": report.assessments_added,
        "assessments_unchanged": report.assessments_unchanged,
    }


def record_import(
    session: Session, report: ImportReport, form: str, source: str, username: str, user_id: int | None = None
) -> AuditLog:
    """The audit row of an import into ``report.clinic``: its format, where it came from and its counts."""
    return write(
        session,
        "import",
        "records",
        report.clinic,
        clinic_id=require_clinic(session, report.clinic).id,
        username=username,
        user_id=user_id,
        after={"format": form, "source": source, **import_counts(report)},
    )
