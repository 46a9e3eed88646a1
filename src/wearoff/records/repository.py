"""Small record queries and changes for the CLI and the web app.

Reads return plain frozen dataclasses (no session needed afterwards); the functions that change rows (``amend``,
``void``) take ORM rows, flush, and leave the commit to the caller's transaction (:func:`db.session_scope`).
Everything used for forecasting skips voided rows (a voided patient, session, injection or assessment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from wearoff.records import validation as v
from wearoff.records.errors import RecordsError
from wearoff.records.models import (
    CLINICAL_MODELS,
    Amendment,
    Assessment,
    Base,
    Clinic,
    Injection,
    Patient,
    TreatmentSession,
    utcnow,
)
from wearoff.records.values import (
    AreaHistory,
    AssessmentRecord,
    PatientHistory,
    PatientInfo,
    TreatmentRecord,
    jsonable,
)

DEFAULT_CLINIC = "default"


# --- clinics and patients ---------------------------------------------------------------------------------------


def get_clinic(session: Session, name: str = DEFAULT_CLINIC) -> Clinic | None:
    """The clinic called ``name``, or ``None``."""
    return session.scalar(select(Clinic).where(Clinic.name == name))


def require_clinic(session: Session, name: str = DEFAULT_CLINIC) -> Clinic:
    """The clinic called ``name``, or a :class:`RecordsError` naming the clinics there are."""
    clinic = get_clinic(session, name)
    if clinic is None:
        known = session.scalars(select(Clinic.name).order_by(Clinic.name)).all()
        listing = f"; clinics in this database: {', '.join(known)}" if known else "; the database has no clinics yet"
        raise RecordsError(f"no clinic named {name!r}{listing}")
    return clinic


def get_or_create_clinic(session: Session, name: str = DEFAULT_CLINIC) -> Clinic:
    """The clinic called ``name``, added to the session (and flushed) if it did not exist."""
    clinic = get_clinic(session, name)
    if clinic is None:
        if not name.strip() or len(name) > 200:
            raise RecordsError("a clinic name must be 1-200 characters")
        clinic = Clinic(name=name)
        session.add(clinic)
        session.flush()
    return clinic


def _info(patient: Patient) -> PatientInfo:
    return PatientInfo(patient.external_id, patient.sex, patient.birth_year, patient.activity, patient.voided)


def patient_row(session: Session, patient_id: str, clinic: str = DEFAULT_CLINIC) -> Patient:
    """The ORM row of the clinic's patient ``patient_id`` (voided or not), for :func:`amend` and :func:`void`;
    a :class:`RecordsError` if there is none."""
    found = session.scalar(
        select(Patient)
        .join(Clinic, Patient.clinic_id == Clinic.id)
        .where(Clinic.name == clinic, Patient.external_id == patient_id)
    )
    if found is None:
        raise RecordsError(f"no patient {patient_id!r} in clinic {clinic!r}")
    return found


def treatment_row(session: Session, treatment_id: str, clinic: str = DEFAULT_CLINIC) -> Injection:
    """The ORM row of the clinic's treatment ``treatment_id`` (one area in one session), voided or not."""
    found = session.scalar(
        select(Injection)
        .join(Clinic, Injection.clinic_id == Clinic.id)
        .where(Clinic.name == clinic, Injection.external_id == treatment_id)
    )
    if found is None:
        raise RecordsError(f"no treatment {treatment_id!r} in clinic {clinic!r}")
    return found


def get_patient(session: Session, patient_id: str, clinic: str = DEFAULT_CLINIC) -> PatientInfo | None:
    """The clinic's patient ``patient_id`` (voided ones too: see ``voided``), or ``None``."""
    try:
        return _info(patient_row(session, patient_id, clinic))
    except RecordsError:
        return None


def list_patients(session: Session, clinic: str = DEFAULT_CLINIC, *, include_voided: bool = False) -> list[PatientInfo]:
    """The clinic's patients sorted by id (voided ones only if asked); empty for an unknown clinic."""
    query = (
        select(Patient)
        .join(Clinic, Patient.clinic_id == Clinic.id)
        .where(Clinic.name == clinic)
        .order_by(Patient.external_id)
    )
    if not include_voided:
        query = query.where(Patient.voided.is_(False))
    return [_info(p) for p in session.scalars(query)]


def patient_history(session: Session, patient_id: str, clinic: str = DEFAULT_CLINIC) -> PatientHistory:
    """A patient's treatments and assessments per area, oldest first, without voided rows (what forecasting uses).

    A treatment counts if neither it nor its session is voided. A :class:`RecordsError` if the patient is unknown
    or voided.
    """
    patient = patient_row(session, patient_id, clinic)
    if patient.voided:
        raise RecordsError(f"patient {patient_id!r} of clinic {clinic!r} is voided")
    return _histories(session, [patient], Patient.id == patient.id)[0]


def clinic_histories(session: Session, clinic: str = DEFAULT_CLINIC) -> list[PatientHistory]:
    """Every patient's history (as :func:`patient_history`), in patient-id order, read with three queries."""
    owner = require_clinic(session, clinic)
    scope = (Patient.clinic_id == owner.id) & Patient.voided.is_(False)
    patients = list(session.scalars(select(Patient).where(scope).order_by(Patient.external_id)))
    return _histories(session, patients, scope)


def _histories(session: Session, patients: list[Patient], scope: Any) -> list[PatientHistory]:
    """Histories of these patients (``scope``: the condition on :class:`Patient` that selects them): their live
    treatments and assessments grouped per area, oldest first."""
    ids = [p.id for p in patients]
    treatments = session.execute(
        select(Injection, TreatmentSession.patient_id, TreatmentSession.date, TreatmentSession.injector)
        .join(TreatmentSession, Injection.session_id == TreatmentSession.id)
        .join(Patient, TreatmentSession.patient_id == Patient.id)
        .where(scope, TreatmentSession.voided.is_(False), Injection.voided.is_(False))
        .order_by(TreatmentSession.date, Injection.area, Injection.external_id)
    ).all()
    assessments = session.scalars(
        select(Assessment)
        .join(Patient, Assessment.patient_id == Patient.id)
        .where(scope, Assessment.voided.is_(False))
        .order_by(Assessment.date, Assessment.area, Assessment.rater)
    ).all()
    areas: dict[int, dict[str, AreaHistory]] = {pk: {} for pk in ids}
    for injection, patient_pk, date, session_injector in treatments:
        history = areas[patient_pk].setdefault(injection.area, AreaHistory(injection.area))
        history.treatments.append(
            TreatmentRecord(
                treatment_id=injection.external_id,
                date=date,
                product=injection.product,
                area=injection.area,
                units=injection.units,
                lot=injection.lot,
                expiry=injection.expiry,
                dilution_ml=injection.dilution_ml,
                injector=injection.injector or session_injector,
            )
        )
    for a in assessments:
        history = areas[a.patient_id].setdefault(a.area, AreaHistory(a.area))
        history.assessments.append(AssessmentRecord(a.date, a.area, a.severity, a.rater, a.severity_rest))
    return [PatientHistory(_info(p), dict(sorted(areas[p.id].items()))) for p in patients]


# --- amendments -------------------------------------------------------------------------------------------------

_PROTECTED = {"id", "voided", "clinic_id", "patient_id", "session_id", "created_at"}


def _text(limit: int) -> Callable[[Any, Base], Any]:
    def check(value: Any, _row: Base) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise v.FieldError(f"expected text, not {value!r}")
        return v.parse_text(value, "value", limit)

    return check


def _required_text(value: Any, _row: Base) -> str:
    if not isinstance(value, str) or not value.strip():
        raise v.FieldError("expected non-empty text")
    return value.strip()


def _date(value: Any, _row: Base) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        raise v.FieldError(f"expected a date, not {value!r}")
    return v.parse_date(value) if isinstance(value, str) else v.parse_date(value.isoformat())


def _optional_date(value: Any, row: Base) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        return v.parse_date(value, "expiry", allow_future=True)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise v.FieldError(f"expected a date, not {value!r}")


def _units(value: Any, row: Base) -> float:
    return v.parse_units(value, row.product)  # type: ignore[attr-defined]


def _product(value: Any, row: Base) -> str:
    product = v.parse_product(str(value))
    v.parse_units(row.units, product)  # type: ignore[attr-defined]
    return product


def _optional_severity(value: Any, _row: Base) -> int | None:
    return None if value is None else v.parse_severity(value, "severity_rest")


_VALIDATORS: dict[str, Callable[[Any, Base], Any]] = {
    "patient.external_id": lambda x, _r: v.parse_id(str(x).strip(), "patient_id"),
    "patient.sex": lambda x, _r: v.parse_code(str(x), v.SEXES, "sex"),
    "patient.activity": lambda x, _r: v.parse_code(str(x), v.ACTIVITIES, "activity"),
    "patient.birth_year": lambda x, _r: v.parse_birth_year(x),
    "treatment_session.date": _date,
    "treatment_session.injector": _text(v.TEXT_MAX),
    "injection.external_id": lambda x, _r: v.parse_id(str(x).strip(), "treatment_id"),
    "injection.area": lambda x, _r: v.parse_area(str(x)),
    "injection.product": _product,
    "injection.units": _units,
    "injection.lot": _text(v.TEXT_MAX),
    "injection.expiry": _optional_date,
    "injection.dilution_ml": lambda x, _r: v.parse_dilution(x),
    "injection.injector": _text(v.TEXT_MAX),
    "injection.points": lambda x, _r: v.parse_points(x),
    "assessment.area": lambda x, _r: v.parse_area(str(x)),
    "assessment.date": _date,
    "assessment.severity": lambda x, _r: v.parse_severity(x),
    "assessment.severity_rest": _optional_severity,
    "assessment.rater": lambda x, _r: v.parse_code(str(x), v.RATERS, "rater"),
    "adverse_event.date": _date,
    "adverse_event.area": lambda x, _r: None if x is None else v.parse_area(str(x)),
    "adverse_event.description": _required_text,
    "note.date": _date,
    "note.text": _required_text,
}


def _check_clinical(row: Base, reason: str, by: str) -> None:
    if not isinstance(row, CLINICAL_MODELS):
        raise RecordsError(f"{type(row).__name__} rows are not clinical records; only {_clinical_names()} are amended")
    if sa_inspect(row).persistent is False:
        raise RecordsError("only rows already stored in the database can be amended or voided")
    if not reason or not reason.strip():
        raise RecordsError("an amendment needs a reason")
    if not by or not by.strip():
        raise RecordsError("an amendment needs the name of who made it")
    if len(by.strip()) > 100:
        raise RecordsError("the name of who amends is limited to 100 characters")


def _clinical_names() -> str:
    return ", ".join(m.__tablename__ for m in CLINICAL_MODELS)  # type: ignore[attr-defined]


def amend(session: Session, row: Base, column: str, new_value: Any, reason: str, by: str) -> Amendment:
    """Change one column of a stored clinical row, keeping the old value in an :class:`Amendment`.

    The new value is validated as an import would (codes, ranges, units against the product); a date may be
    given as ``YYYY-MM-DD``. Refused with a :class:`RecordsError`: non-clinical tables, keys and ``voided`` (use
    :func:`void`), voided rows, an unchanged value, a missing reason or author. The change and the amendment are
    flushed together (a CHECK or unique violation raises there); the caller's transaction commits them.
    """
    _check_clinical(row, reason, by)
    table = row.__tablename__
    if column in _PROTECTED or column not in sa_inspect(type(row)).columns:
        editable = sorted(k.split(".", 1)[1] for k in _VALIDATORS if k.startswith(table + "."))
        raise RecordsError(f"column {column!r} of {table} cannot be amended; amendable: {', '.join(editable)}")
    if row.voided:  # type: ignore[attr-defined]
        raise RecordsError(f"{table} row {row.id} is voided; voided rows are not amended")  # type: ignore[attr-defined]
    try:
        clean = _VALIDATORS[f"{table}.{column}"](new_value, row)
    except v.FieldError as exc:
        raise RecordsError(f"{table}.{column}: {exc}") from None
    old = getattr(row, column)
    if old == clean:
        raise RecordsError(f"{table}.{column} is already {jsonable(clean)!r}; nothing to amend")
    amendment = Amendment(
        table_name=table,
        row_id=row.id,  # type: ignore[attr-defined]
        column_name=column,
        old_value=jsonable(old),
        new_value=jsonable(clean),
        reason=reason.strip(),
        amended_at=utcnow(),
        amended_by=by.strip(),
    )
    session.add(amendment)
    setattr(row, column, clean)
    session.flush()
    return amendment


def void(session: Session, row: Base, reason: str, by: str) -> Amendment:
    """Mark a stored clinical row as entered in error: ``voided`` becomes true and an :class:`Amendment` records
    why and by whom. The row stays in the database but leaves history, exports and forecasts (voiding a session
    or a patient hides everything under it). A :class:`RecordsError` if it is voided already."""
    _check_clinical(row, reason, by)
    if row.voided:  # type: ignore[attr-defined]
        raise RecordsError(f"{row.__tablename__} row {row.id} is voided already")  # type: ignore[attr-defined]
    amendment = Amendment(
        table_name=row.__tablename__,
        row_id=row.id,  # type: ignore[attr-defined]
        column_name="voided",
        old_value=False,
        new_value=True,
        reason=reason.strip(),
        amended_at=utcnow(),
        amended_by=by.strip(),
    )
    session.add(amendment)
    row.voided = True  # type: ignore[attr-defined]
    session.flush()
    return amendment


def amendments(session: Session, row: Base) -> list[Amendment]:
    """The audit trail of one row, oldest first."""
    return list(
        session.scalars(
            select(Amendment)
            .where(Amendment.table_name == row.__tablename__, Amendment.row_id == row.id)  # type: ignore[attr-defined]
            .order_by(Amendment.amended_at, Amendment.id)
        )
    )
