"""Records as CSV: the folder contract of DESIGN.md ("Records as CSV"), imported all-or-nothing and exported.

A folder holds three UTF-8 files with a header line:

- ``patients.csv``: ``patient_id, sex (female|male), birth_year, activity (low|moderate|high)``
- ``treatments.csv``: ``treatment_id, patient_id, date (YYYY-MM-DD), product, area, units`` and optionally
  ``lot, expiry, dilution_ml, injector``; one row per area treated in a session (a session is the rows of one
  patient on one date)
- ``assessments.csv``: ``patient_id, area, date, severity (0-3 at maximal contraction), rater
  (clinician|patient)`` and optionally ``severity_rest`` (0-3 at rest)

Ids are the clinic's own: unique per clinic, not across clinics. Import validates every row in memory first and
stores nothing if any row is wrong (:class:`RecordsImportError` lists every bad row); it never overwrites what the
database holds (a row that differs from the stored row with the same id is an error; an identical one is skipped,
so re-importing a folder changes nothing). The writes are bulk inserts inside one transaction (a savepoint of the
caller's session), so a failed or killed import leaves the database as it was.

Other formats reuse the checks and the writes: a reader turns its input into three :class:`RowTable` (rows of text
keyed by the CSV column names) and hands them to :func:`store_rows` (the FHIR Bundle reader of
:mod:`wearoff.records.fhir_io` does). :func:`export_rows` gives the rows an export writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import insert, or_, select, true
from sqlalchemy.orm import Session

from wearoff.catalog import Catalog, load_catalog
from wearoff.records import validation as v
from wearoff.records.errors import RecordsError, RecordsImportError, RowError
from wearoff.records.models import Assessment, Base, Clinic, Injection, Patient, TreatmentSession, utcnow
from wearoff.records.repository import (
    DEFAULT_CLINIC,
    get_clinic,
    get_or_create_clinic,
    require_clinic,
)
from wearoff.records.values import AreaHistory, AssessmentRecord, PatientHistory, PatientInfo, TreatmentRecord

PATIENTS = "patients.csv"
TREATMENTS = "treatments.csv"
ASSESSMENTS = "assessments.csv"
PATIENT_COLUMNS = ("patient_id", "sex", "birth_year", "activity")
TREATMENT_COLUMNS = ("treatment_id", "patient_id", "date", "product", "area", "units")
TREATMENT_OPTIONAL = ("lot", "expiry", "dilution_ml", "injector")
ASSESSMENT_COLUMNS = ("patient_id", "area", "date", "severity", "rater")
ASSESSMENT_OPTIONAL = ("severity_rest",)
CHUNK = 5000
"""Rows per bulk INSERT statement (and per progress update)."""

ProgressCallback = Callable[[str, int, int], None]
"""``progress(task, done, total)``: called as the import or export advances (task is a short label)."""

TREATMENT_QUERY_COLUMNS = (
    Injection.external_id,
    Patient.external_id,
    TreatmentSession.date,
    Injection.product,
    Injection.area,
    Injection.units,
    Injection.lot,
    Injection.expiry,
    Injection.dilution_ml,
    Injection.injector,
)
"""A treatment row as stored: the columns the import compares against and the export writes."""


@dataclass
class ImportReport:
    """What an import stored (``*_added``) and what it found already stored, identical (``*_unchanged``).

    ``folder`` is what was imported: the records folder, or the FHIR Bundle file."""

    clinic: str
    folder: Path
    patients_added: int = 0
    patients_unchanged: int = 0
    sessions_added: int = 0
    treatments_added: int = 0
    treatments_unchanged: int = 0
    assessments_added: int = 0
    assessments_unchanged: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the import stored anything."""
        return bool(self.patients_added or self.treatments_added or self.assessments_added)

    def summary(self) -> str:
        """One line: what was added and what was already there."""
        return (
            f"clinic {self.clinic!r}: added {self.patients_added} patients, {self.treatments_added} treatments "
            f"({self.sessions_added} sessions), {self.assessments_added} assessments; already stored and identical: "
            f"{self.patients_unchanged} patients, {self.treatments_unchanged} treatments, "
            f"{self.assessments_unchanged} assessments"
        )


@dataclass(frozen=True)
class ExportReport:
    """How many rows each exported file holds."""

    folder: Path
    patients: int
    treatments: int
    assessments: int


# --- reading ----------------------------------------------------------------------------------------------------


@dataclass
class RowTable:
    """The rows of one kind (patients, treatments or assessments) as a reader found them, before any check.

    ``rows`` are ``(position, row)`` pairs; ``row`` maps the column names of the CSV contract to text (``""`` when
    blank; optional columns may be absent from ``columns``). ``position`` is the row's line in ``file``, or, when
    ``entries`` is true, the 0-based index of a FHIR Bundle entry plus 1. ``reported`` holds, per position, the
    columns whose problem the reader has already reported (``""``: the row as a whole): the checks skip those
    columns, and the row is not stored.
    """

    file: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]
    entries: bool = False
    reported: dict[int, set[str]] = field(default_factory=dict)

    def has(self, column: str) -> bool:
        return column in self.columns

    def error(self, position: int, column: str, message: str) -> RowError:
        """A :class:`RowError` at ``position`` (a line, or an entry)."""
        return RowError(self.file, position, column, message, position - 1 if self.entries else None)

    def ref(self, position: int) -> str:
        """How messages name another row: ``line 7`` or ``entry[6]``."""
        return f"entry[{position - 1}]" if self.entries else f"line {position}"

    def at(self, position: int) -> str:
        """``on line 7`` or ``in entry[6]``."""
        return f"in {self.ref(position)}" if self.entries else f"on {self.ref(position)}"


@dataclass(frozen=True)
class RowSource:
    """What an import reads, for the messages: where patients are listed and how to add a missing one."""

    patients: str = PATIENTS
    add_patient: str = f"add the patient to {PATIENTS}"


CSV_SOURCE = RowSource()


def _read(
    folder: Path, name: str, required: tuple[str, ...], optional: tuple[str, ...], errors: list[RowError]
) -> tuple[RowTable | None, list[str]]:
    """Read one file; structural problems go to ``errors`` and give ``None``. Returns (table, warnings)."""
    path = folder / name
    if not path.is_file():
        errors.append(
            RowError(
                name,
                0,
                "",
                f"file not found in {folder}; an import folder needs {PATIENTS}, {TREATMENTS} and "
                f"{ASSESSMENTS} (a header line is enough for an empty one)",
            )
        )
        return None, []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                errors.append(RowError(name, 0, "", f"empty file; the header must be {', '.join(required)}"))
                return None, []
            columns = [c.strip().lower() for c in header]
            problems = False
            for column in sorted({c for c in columns if columns.count(c) > 1}):
                errors.append(RowError(name, 1, column, "column appears more than once in the header"))
                problems = True
            for column in required:
                if column not in columns:
                    errors.append(
                        RowError(name, 1, column, f"required column missing; the header needs {', '.join(required)}")
                    )
                    problems = True
            rows: list[tuple[int, dict[str, str]]] = []
            width = len(columns)
            previous_end = reader.line_num
            for record in reader:
                line, previous_end = previous_end + 1, reader.line_num  # the record's first line
                values = [cell.strip() for cell in record]
                if not any(values):
                    continue
                if len(values) > width:
                    errors.append(RowError(name, line, "", f"row has {len(values)} fields but the header has {width}"))
                    continue
                if len(values) < width:
                    values += [""] * (width - len(values))
                rows.append((line, dict(zip(columns, values, strict=True))))
    except UnicodeDecodeError as exc:
        errors.append(RowError(name, 0, "", f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"))
        return None, []
    except csv.Error as exc:
        errors.append(RowError(name, 0, "", f"not a readable CSV file: {exc}"))
        return None, []
    extra = [c for c in columns if c not in required and c not in optional]
    warnings = []
    if extra:
        warnings.append(f"{name}: column(s) {', '.join(extra)} are not part of the records contract; ignored")
    return (None if problems else RowTable(name, columns, rows)), warnings


# --- what the database already holds ----------------------------------------------------------------------------


@dataclass
class _Stored:
    patients: dict[str, tuple[int, str, int, str, bool]] = field(default_factory=dict)
    """external id -> (pk, sex, birth_year, activity, voided)"""
    treatments: dict[str, dict[str, Any]] = field(default_factory=dict)
    """external treatment id -> its CSV fields (and ``voided``)"""
    area_dates: dict[tuple[str, dt.date, str], str] = field(default_factory=dict)
    """(patient, date, area) -> treatment id, for the treatments that count (not voided)"""
    assessments: dict[tuple[str, str, dt.date, str], tuple[int, int | None]] = field(default_factory=dict)
    """(patient, area, date, rater) -> (severity, severity_rest)"""


@dataclass(frozen=True)
class _Scope:
    """The patients and treatment ids a few rows can touch: the stored records their checks need."""

    patients: frozenset[str]
    treatments: frozenset[str]

    @classmethod
    def of(cls, *tables: RowTable | None) -> _Scope:
        rows = [row for t in tables if t is not None for _, row in t.rows]
        return cls(
            frozenset(r["patient_id"] for r in rows if r.get("patient_id")),
            frozenset(r["treatment_id"] for r in rows if r.get("treatment_id")),
        )


def _stored(session: Session, clinic: Clinic | None, scope: _Scope | None = None) -> _Stored:
    """The clinic's stored records the checks compare rows with: all of them, or those of ``scope`` (its patients'
    records, and the treatments whose ids it names, whoever's they are)."""
    out = _Stored()
    if clinic is None or clinic.id is None:
        return out
    patient_scope = Patient.external_id.in_(scope.patients) if scope is not None else true()
    treatment_scope = or_(patient_scope, Injection.external_id.in_(scope.treatments)) if scope is not None else true()
    for pk, ext, sex, year, activity, voided in session.execute(
        select(
            Patient.id, Patient.external_id, Patient.sex, Patient.birth_year, Patient.activity, Patient.voided
        ).where(Patient.clinic_id == clinic.id, patient_scope)
    ):
        out.patients[ext] = (pk, sex, year, activity, voided)
    query = (
        select(
            *TREATMENT_QUERY_COLUMNS,
            Injection.voided | TreatmentSession.voided | Patient.voided,
        )
        .join(TreatmentSession, Injection.session_id == TreatmentSession.id)
        .join(Patient, TreatmentSession.patient_id == Patient.id)
        .where(Injection.clinic_id == clinic.id, treatment_scope)
    )
    for ext, patient, date, product, area, units, lot, expiry, dilution, injector, voided in session.execute(query):
        out.treatments[ext] = {
            "patient_id": patient,
            "date": date,
            "product": product,
            "area": area,
            "units": units,
            "lot": lot,
            "expiry": expiry,
            "dilution_ml": dilution,
            "injector": injector,
        }
        if not voided:
            out.area_dates[(patient, date, area)] = ext
    query_a = (
        select(
            Patient.external_id,
            Assessment.area,
            Assessment.date,
            Assessment.rater,
            Assessment.severity,
            Assessment.severity_rest,
        )
        .join(Patient, Assessment.patient_id == Patient.id)
        .where(Patient.clinic_id == clinic.id, patient_scope, Assessment.voided.is_(False))
    )
    for patient, area, date, rater, severity, rest in session.execute(query_a):
        out.assessments[(patient, area, date, rater)] = (severity, rest)
    return out


# --- validation -------------------------------------------------------------------------------------------------


class _Checker:
    """Collects every problem of one import; each ``check_*`` returns the clean new rows."""

    def __init__(
        self,
        stored: _Stored,
        catalog: Catalog,
        today: dt.date,
        progress: ProgressCallback | None,
        source: RowSource = CSV_SOURCE,
    ) -> None:
        self.stored = stored
        self.source = source
        self.catalog = catalog
        self.today = today
        self.progress = progress
        self._parse_date = partial(v.parse_date, today=today)
        self._parse_birth_year = partial(v.parse_birth_year, today=today)
        self.errors: list[RowError] = []
        self.file_patients: dict[str, int | None] = {}
        """patient ids named in patients.csv or the Bundle (bad rows too) -> birth year if valid"""
        self.unchanged = {"patients": 0, "treatments": 0, "assessments": 0}
        self.patients_readable = True
        """False when patients.csv could not be read: references to patients are then not checked"""

    def _error(self, table: RowTable, line: int, column: str, message: str) -> None:
        self.errors.append(table.error(line, column, message))

    def _field(self, table: RowTable, line: int, column: str, parse: Callable[..., Any], *args: Any) -> Any:
        """``parse(*args)``, or ``None`` after recording its FieldError against the column (``None`` without a
        new error when the reader has reported the column already)."""
        if table.reported and column in table.reported.get(line, ()):
            return None
        try:
            return parse(*args)
        except v.FieldError as exc:
            self._error(table, line, column, str(exc))
            return None

    def _bad(self, table: RowTable, line: int, n_errors: int) -> bool:
        """Whether the row has a problem: a new error since ``n_errors``, or one its reader reported."""
        return len(self.errors) > n_errors or line in table.reported

    def _tick(self, task: str, i: int, total: int) -> None:
        if self.progress is not None and (i % CHUNK == 0 or i == total):
            self.progress(task, i, total)

    def _birth_year(self, patient: str) -> int | None:
        if patient in self.file_patients:
            return self.file_patients[patient]
        stored = self.stored.patients.get(patient)
        return stored[2] if stored else None

    def _check_patient_ref(self, table: RowTable, line: int, patient: str) -> bool:
        if patient in self.file_patients or patient in self.stored.patients:
            return True
        if self.patients_readable:
            self._error(
                table,
                line,
                "patient_id",
                f"patient {patient!r} is neither in {self.source.patients} nor in the database; "
                f"{self.source.add_patient}",
            )
        return False

    def _refuse_if_voided(self, table: RowTable, line: int, patient: str) -> bool:
        """Report (and return True) when a new row names a patient who is voided in the database."""
        stored = self.stored.patients.get(patient)
        if stored is not None and stored[4]:
            message = f"patient {patient!r} is voided in the database; new records for a voided patient are refused"
            self._error(table, line, "patient_id", message)
            return True
        return False

    def _check_date(self, table: RowTable, line: int, text: str, patient: str | None) -> dt.date | None:
        date = self._field(table, line, "date", self._parse_date, text)
        year = self._birth_year(patient) if patient else None
        if date is not None and year is not None and date.year < year:
            self._error(table, line, "date", f"{date.isoformat()} is before the patient's birth year {year}")
            return None
        return date

    def _conflict(self, table: RowTable, line: int, what: str, differences: list[tuple[str, Any, Any]]) -> None:
        for column, stored, given in differences:
            self._error(
                table,
                line,
                column,
                f"{what} is already in the database with {column} {_show(stored)}, not {_show(given)}; stored "
                "records are never overwritten: correct the file, or amend the stored record",
            )

    def check_patients(self, table: RowTable) -> list[dict[str, Any]]:
        new: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        total = len(table.rows)
        for i, (line, row) in enumerate(table.rows, 1):
            self._tick("checking patients", i, total)
            n_errors = len(self.errors)
            pid = self._field(table, line, "patient_id", v.parse_id, row["patient_id"], "patient_id")
            sex = self._field(table, line, "sex", v.parse_code, row["sex"], v.SEXES, "sex")
            year = self._field(table, line, "birth_year", self._parse_birth_year, row["birth_year"])
            activity = self._field(table, line, "activity", v.parse_code, row["activity"], v.ACTIVITIES, "activity")
            if pid is None:
                continue
            if pid in seen:
                message = f"duplicate patient_id {pid!r} (also {table.at(seen[pid])})"
                self._error(table, line, "patient_id", message)
                continue
            seen[pid] = line
            self.file_patients[pid] = year
            if self._bad(table, line, n_errors):
                continue
            stored = self.stored.patients.get(pid)
            if stored is not None:
                diffs = [
                    (c, s, g)
                    for c, s, g in (
                        ("sex", stored[1], sex),
                        ("birth_year", stored[2], year),
                        ("activity", stored[3], activity),
                    )
                    if s != g
                ]
                if diffs:
                    self._conflict(table, line, f"patient {pid!r}", diffs)
                else:
                    self.unchanged["patients"] += 1
                continue
            new.append({"external_id": pid, "sex": sex, "birth_year": year, "activity": activity})
        return new

    def check_treatments(self, table: RowTable) -> list[dict[str, Any]]:
        new: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        areas_seen: dict[tuple[str, dt.date, str], int] = {}
        optional = [c for c in TREATMENT_OPTIONAL if table.has(c)]
        total = len(table.rows)
        for i, (line, row) in enumerate(table.rows, 1):
            self._tick("checking treatments", i, total)
            n_errors = len(self.errors)
            tid = self._field(table, line, "treatment_id", v.parse_id, row["treatment_id"], "treatment_id")
            pid = self._field(table, line, "patient_id", v.parse_id, row["patient_id"], "patient_id")
            known = pid is not None and self._check_patient_ref(table, line, pid)
            date = self._check_date(table, line, row["date"], pid if known else None)
            product = self._field(table, line, "product", v.parse_product, row["product"], self.catalog)
            area = self._field(table, line, "area", v.parse_area, row["area"], self.catalog)
            units = self._field(
                table,
                line,
                "units",
                v.parse_units,
                row["units"],
                product,
                self.catalog,
            )
            clean: dict[str, Any] = {
                "treatment_id": tid,
                "patient_id": pid,
                "date": date,
                "product": product,
                "area": area,
                "units": units,
                "lot": self._field(table, line, "lot", v.parse_text, row.get("lot"), "lot"),
                "expiry": self._field(table, line, "expiry", v.parse_expiry, row.get("expiry")),
                "dilution_ml": self._field(table, line, "dilution_ml", v.parse_dilution, row.get("dilution_ml")),
                "injector": self._field(table, line, "injector", v.parse_text, row.get("injector"), "injector"),
            }
            if tid is not None:
                if tid in seen:
                    message = f"duplicate treatment_id {tid!r} (also {table.at(seen[tid])})"
                    self._error(table, line, "treatment_id", message)
                    continue
                seen[tid] = line
            if self._bad(table, line, n_errors) or not known:
                continue
            key = (pid, date, area)
            if key in areas_seen:
                self._error(
                    table,
                    line,
                    "area",
                    f"{area} of patient {pid!r} on {date} is already {table.at(areas_seen[key])}; one row per area "
                    "treated in a session (add the units up)",
                )
                continue
            areas_seen[key] = line
            stored = self.stored.treatments.get(tid)
            if stored is not None:
                compared = ["patient_id", "date", "product", "area", "units", *optional]
                diffs = [(c, stored[c], clean[c]) for c in compared if stored[c] != clean[c]]
                if diffs:
                    self._conflict(table, line, f"treatment {tid!r}", diffs)
                else:
                    self.unchanged["treatments"] += 1
                continue
            if self._refuse_if_voided(table, line, pid):
                continue
            other = self.stored.area_dates.get(key)
            if other is not None:
                self._error(
                    table,
                    line,
                    "area",
                    f"the database already holds treatment {other!r} of {area} for patient {pid!r} on {date}; one "
                    "row per area treated in a session",
                )
                continue
            new.append(clean)
        return new

    def check_assessments(self, table: RowTable) -> list[dict[str, Any]]:
        new: list[dict[str, Any]] = []
        seen: dict[tuple[str, str, dt.date, str], int] = {}
        has_rest = table.has("severity_rest")
        total = len(table.rows)
        for i, (line, row) in enumerate(table.rows, 1):
            self._tick("checking assessments", i, total)
            n_errors = len(self.errors)
            pid = self._field(table, line, "patient_id", v.parse_id, row["patient_id"], "patient_id")
            known = pid is not None and self._check_patient_ref(table, line, pid)
            area = self._field(table, line, "area", v.parse_area, row["area"], self.catalog)
            date = self._check_date(table, line, row["date"], pid if known else None)
            severity = self._field(table, line, "severity", v.parse_severity, row["severity"])
            rest = None
            if has_rest and row["severity_rest"]:
                rest = self._field(
                    table,
                    line,
                    "severity_rest",
                    v.parse_severity,
                    row["severity_rest"],
                    "severity_rest",
                )
            rater = self._field(table, line, "rater", v.parse_code, row["rater"], v.RATERS, "rater")
            if self._bad(table, line, n_errors) or not known:
                continue
            key = (pid, area, date, rater)
            if key in seen:
                self._error(
                    table,
                    line,
                    "date",
                    f"patient {pid!r} already has a {rater} score of {area} on {date} ({table.ref(seen[key])}); one "
                    "score per patient, area, date and rater",
                )
                continue
            seen[key] = line
            stored = self.stored.assessments.get(key)
            if stored is not None:
                diffs = [("severity", stored[0], severity)]
                if has_rest:
                    diffs.append(("severity_rest", stored[1], rest))
                diffs = [d for d in diffs if d[1] != d[2]]
                if diffs:
                    self._conflict(table, line, f"the {rater} score of {area} for patient {pid!r} on {date}", diffs)
                else:
                    self.unchanged["assessments"] += 1
                continue
            if self._refuse_if_voided(table, line, pid):
                continue
            new.append(
                {
                    "patient_id": pid,
                    "area": area,
                    "date": date,
                    "severity": severity,
                    "severity_rest": rest,
                    "rater": rater,
                }
            )
        return new


def _show(value: Any) -> str:
    if value is None:
        return "(blank)"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return _number(value)
    return repr(value)


# --- writing ----------------------------------------------------------------------------------------------------


_LABELS = {"patient": "patients", "treatment_session": "sessions", "injection": "treatments", "assessment": "scores"}


def _bulk_insert(
    session: Session, model: type[Base], rows: list[dict[str, Any]], progress: ProgressCallback | None = None
) -> None:
    """INSERT ``rows`` into ``model``'s table in chunks of :data:`CHUNK` (executemany), reporting progress.

    The one place an import writes: tests replace it to simulate a crash.
    """
    total = len(rows)
    table = model.__table__  # a Core insert: executemany without the ORM's per-row bookkeeping
    for start in range(0, total, CHUNK):
        session.execute(insert(table), rows[start : start + CHUNK])
        if progress is not None:
            progress(
                f"storing {_LABELS.get(model.__tablename__, model.__tablename__)}", min(start + CHUNK, total), total
            )


def _common(values: list[str | None]) -> str | None:
    distinct = set(values)
    return values[0] if len(distinct) == 1 else None


def _write(
    session: Session,
    clinic: Clinic,
    patients: list[dict[str, Any]],
    treatments: list[dict[str, Any]],
    assessments: list[dict[str, Any]],
    report: ImportReport,
    progress: ProgressCallback | None,
) -> None:
    now = utcnow()
    _bulk_insert(
        session,
        Patient,
        [{**p, "clinic_id": clinic.id, "created_at": now, "voided": False} for p in patients],
        progress,
    )
    pk = dict(session.execute(select(Patient.external_id, Patient.id).where(Patient.clinic_id == clinic.id)).all())

    existing: dict[tuple[int, dt.date], int] = {}
    for patient, date, sid in session.execute(
        select(TreatmentSession.patient_id, TreatmentSession.date, TreatmentSession.id)
        .join(Patient, TreatmentSession.patient_id == Patient.id)
        .where(Patient.clinic_id == clinic.id, TreatmentSession.voided.is_(False))
        .order_by(TreatmentSession.id.desc())
    ):
        existing[(patient, date)] = sid  # the oldest session of a patient and date wins
    groups: dict[tuple[int, dt.date], list[dict[str, Any]]] = defaultdict(list)
    for t in treatments:
        groups[(pk[t["patient_id"]], t["date"])].append(t)
    new_sessions = [
        {"patient_id": patient, "date": date, "injector": _common([t["injector"] for t in rows]), "voided": False}
        for (patient, date), rows in groups.items()
        if (patient, date) not in existing
    ]
    _bulk_insert(session, TreatmentSession, new_sessions, progress)
    report.sessions_added = len(new_sessions)
    if new_sessions:
        for patient, date, sid in session.execute(
            select(TreatmentSession.patient_id, TreatmentSession.date, TreatmentSession.id)
            .join(Patient, TreatmentSession.patient_id == Patient.id)
            .where(Patient.clinic_id == clinic.id, TreatmentSession.voided.is_(False))
            .order_by(TreatmentSession.id.desc())
        ):
            existing[(patient, date)] = sid
    injections = [
        {
            "session_id": existing[(pk[t["patient_id"]], t["date"])],
            "clinic_id": clinic.id,
            "external_id": t["treatment_id"],
            "area": t["area"],
            "product": t["product"],
            "units": t["units"],
            "lot": t["lot"],
            "expiry": t["expiry"],
            "dilution_ml": t["dilution_ml"],
            "injector": t["injector"],
            "voided": False,
        }
        for t in treatments
    ]
    _bulk_insert(session, Injection, injections, progress)
    _bulk_insert(
        session, Assessment, [{**a, "patient_id": pk[a["patient_id"]], "voided": False} for a in assessments], progress
    )


@contextmanager
def _many_objects() -> Iterator[None]:
    """Pause the cyclic garbage collector while reading hundreds of thousands of rows: they form no cycles, and
    collections triggered by the allocations alone would rescan every row read so far, again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_folder(
    session: Session,
    folder: str | os.PathLike[str],
    clinic: str = DEFAULT_CLINIC,
    *,
    today: dt.date | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a records folder into ``clinic`` (created if new), all or nothing.

    Guarantees: every file and row is validated before anything is written; if any row is wrong a
    :class:`RecordsImportError` lists every problem (file, line, column, why) and the session holds no change.
    Rows identical to stored ones are skipped; rows that differ from stored ones with the same id are errors.
    The writes run in a savepoint of ``session``: if they fail (or the process dies) nothing of this import
    remains; the caller commits (see :func:`wearoff.records.db.session_scope`). ``today`` (default: the local
    date) bounds the dates; ``progress`` is called as the work advances.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RecordsError(f"{folder} is not a folder; give the folder holding {PATIENTS}, {TREATMENTS}, {ASSESSMENTS}")
    with _many_objects():
        return _import_checked(session, folder, clinic, today, progress)


def _import_checked(
    session: Session, folder: Path, clinic: str, today: dt.date | None, progress: ProgressCallback | None
) -> ImportReport:
    errors: list[RowError] = []
    report = ImportReport(clinic=clinic, folder=folder)
    tables: list[RowTable | None] = []
    specs = [(PATIENTS, PATIENT_COLUMNS, ()), (TREATMENTS, TREATMENT_COLUMNS, TREATMENT_OPTIONAL)]
    specs.append((ASSESSMENTS, ASSESSMENT_COLUMNS, ASSESSMENT_OPTIONAL))
    for i, (name, required, optional) in enumerate(specs, 1):
        table, warnings = _read(folder, name, required, optional, errors)
        tables.append(table)
        report.warnings += warnings
        if progress is not None:
            progress("reading files", i, len(specs))
    patients_t, treatments_t, assessments_t = tables
    return store_rows(
        session, report, patients_t, treatments_t, assessments_t, errors=errors, today=today, progress=progress
    )


def store_rows(
    session: Session,
    report: ImportReport,
    patients: RowTable | None,
    treatments: RowTable | None,
    assessments: RowTable | None,
    *,
    errors: list[RowError] | None = None,
    source: RowSource = CSV_SOURCE,
    today: dt.date | None = None,
    progress: ProgressCallback | None = None,
    rows_patients_only: bool = False,
) -> ImportReport:
    """Check the rows a reader found and store the new ones in ``report.clinic``, all or nothing: the one
    checker and writer of every import format.

    ``rows_patients_only`` reads only the stored records the rows can touch (their patients', and treatments by
    the ids they name) instead of the whole clinic's: the same checks, for a form's few rows in a large clinic.

    ``errors`` are the problems the reader found already (they are reported with the checks' own); a table that
    could not be read at all is ``None`` (references to patients are then not checked if it is ``patients``).
    Every row is checked as :func:`import_folder` describes; if there is any problem, a
    :class:`RecordsImportError` lists them all and nothing is written. Fills and returns ``report``.
    """
    existing_clinic = get_clinic(session, report.clinic)
    scope = _Scope.of(patients, treatments, assessments) if rows_patients_only else None
    stored = _stored(session, existing_clinic, scope)
    checker = _Checker(stored, load_catalog(), today or dt.date.today(), progress, source)
    checker.errors = list(errors or [])
    checker.patients_readable = patients is not None
    new_patients = checker.check_patients(patients) if patients is not None else []
    new_treatments = checker.check_treatments(treatments) if treatments is not None else []
    new_assessments = checker.check_assessments(assessments) if assessments is not None else []
    if checker.errors:
        raise RecordsImportError(checker.errors)

    report.patients_unchanged = checker.unchanged["patients"]
    report.treatments_unchanged = checker.unchanged["treatments"]
    report.assessments_unchanged = checker.unchanged["assessments"]
    if not (new_patients or new_treatments or new_assessments):
        return report
    with session.begin_nested():
        target = existing_clinic or get_or_create_clinic(session, report.clinic)
        _write(session, target, new_patients, new_treatments, new_assessments, report, progress)
    report.patients_added = len(new_patients)
    report.treatments_added = len(new_treatments)
    report.assessments_added = len(new_assessments)
    return report


# --- export -----------------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return _number(value)
    return str(value)


def _write_csv(path: Path, header: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> int:
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_cell(x) for x in row])
            count += 1
    os.replace(tmp, path)
    return count


def _patient_rows(session: Session, clinic: Clinic) -> list[tuple[Any, ...]]:
    live = (Patient.clinic_id == clinic.id) & Patient.voided.is_(False)
    rows = session.execute(
        select(Patient.external_id, Patient.sex, Patient.birth_year, Patient.activity).where(live)
    ).all()
    return sorted(tuple(r) for r in rows)


def _treatment_rows(session: Session, clinic: Clinic) -> list[tuple[Any, ...]]:
    live_patient = (Patient.clinic_id == clinic.id) & Patient.voided.is_(False)
    rows = session.execute(
        select(
            *TREATMENT_QUERY_COLUMNS,
            TreatmentSession.injector,
        )
        .join(TreatmentSession, Injection.session_id == TreatmentSession.id)
        .join(Patient, TreatmentSession.patient_id == Patient.id)
        .where(live_patient, TreatmentSession.voided.is_(False), Injection.voided.is_(False))
    ).all()
    rows = sorted(rows, key=lambda t: (t[1], t[2], t[0]))
    return [(*t[:9], t[9] if t[9] is not None else t[10]) for t in rows]


def _assessment_rows(session: Session, clinic: Clinic) -> list[tuple[Any, ...]]:
    live_patient = (Patient.clinic_id == clinic.id) & Patient.voided.is_(False)
    rows = session.execute(
        select(
            Patient.external_id,
            Assessment.area,
            Assessment.date,
            Assessment.severity,
            Assessment.rater,
            Assessment.severity_rest,
        )
        .join(Patient, Assessment.patient_id == Patient.id)
        .where(live_patient, Assessment.voided.is_(False))
    ).all()
    return [tuple(a) for a in sorted(rows, key=lambda a: (a[0], a[1], a[2], a[4]))]


def export_rows(
    session: Session, clinic: str = DEFAULT_CLINIC
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows :func:`export_folder` writes, as ``(patients, treatments, assessments)``: dicts keyed by the
    contract's column names (all optional columns included, ``None`` when unknown), typed (dates, floats, ints)
    and in the export's order, without voided rows. A :class:`RecordsError` for an unknown clinic."""
    target = require_clinic(session, clinic)
    patients = [dict(zip(PATIENT_COLUMNS, r, strict=True)) for r in _patient_rows(session, target)]
    treatment_columns = TREATMENT_COLUMNS + TREATMENT_OPTIONAL
    treatments = [dict(zip(treatment_columns, r, strict=True)) for r in _treatment_rows(session, target)]
    assessment_columns = ASSESSMENT_COLUMNS + ASSESSMENT_OPTIONAL
    assessments = [dict(zip(assessment_columns, r, strict=True)) for r in _assessment_rows(session, target)]
    return patients, treatments, assessments


def export_folder(
    session: Session,
    folder: str | os.PathLike[str],
    clinic: str = DEFAULT_CLINIC,
    *,
    progress: ProgressCallback | None = None,
) -> ExportReport:
    """Write the clinic's records to ``folder`` (created if missing) as patients.csv, treatments.csv and
    assessments.csv in the import contract, without voided rows.

    Guarantees: deterministic output (rows sorted by ids, dates and codes in code-point order, whatever the
    database's collation; numbers without a needless ``.0``; ``\\n``
    line ends), so import -> export -> import elsewhere -> export gives identical files. ``severity_rest`` is
    written only if some exported assessment has one. Each file is replaced atomically. A :class:`RecordsError`
    for an unknown clinic.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = require_clinic(session, clinic)
    n_patients = _write_csv(folder / PATIENTS, PATIENT_COLUMNS, iter(_patient_rows(session, target)))
    if progress:
        progress("exporting", 1, 3)
    n_treatments = _write_csv(
        folder / TREATMENTS, TREATMENT_COLUMNS + TREATMENT_OPTIONAL, iter(_treatment_rows(session, target))
    )
    if progress:
        progress("exporting", 2, 3)
    assessments = _assessment_rows(session, target)
    with_rest = any(a[5] is not None for a in assessments)
    header = ASSESSMENT_COLUMNS + (ASSESSMENT_OPTIONAL if with_rest else ())
    n_assessments = _write_csv(
        folder / ASSESSMENTS, header, (tuple(a) if with_rest else tuple(a[:5]) for a in assessments)
    )
    if progress:
        progress("exporting", 3, 3)
    return ExportReport(folder, n_patients, n_treatments, n_assessments)


def read_folder(folder: str | os.PathLike[str], *, today: dt.date | None = None) -> list[PatientHistory]:
    """The histories of a records folder, in patient-id order, validated exactly as :func:`import_folder`
    validates it into an empty clinic (a :class:`RecordsImportError` lists every bad row), without a database:
    the same values a new clinic would read back with :func:`wearoff.records.repository.clinic_histories`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RecordsError(f"{folder} is not a folder; give the folder holding {PATIENTS}, {TREATMENTS}, {ASSESSMENTS}")
    with _many_objects():
        return _read_checked(folder, today)


def _read_checked(folder: Path, today: dt.date | None) -> list[PatientHistory]:
    errors: list[RowError] = []
    specs = [(PATIENTS, PATIENT_COLUMNS, ()), (TREATMENTS, TREATMENT_COLUMNS, TREATMENT_OPTIONAL)]
    specs.append((ASSESSMENTS, ASSESSMENT_COLUMNS, ASSESSMENT_OPTIONAL))
    patients, treatments, assessments = (_read(folder, *spec, errors)[0] for spec in specs)
    checker = _Checker(_Stored(), load_catalog(), today or dt.date.today(), None, CSV_SOURCE)
    checker.errors = errors
    checker.patients_readable = patients is not None
    rows_p = checker.check_patients(patients) if patients is not None else []
    rows_t = checker.check_treatments(treatments) if treatments is not None else []
    rows_a = checker.check_assessments(assessments) if assessments is not None else []
    if checker.errors:
        raise RecordsImportError(checker.errors)
    return histories_from_rows(rows_p, rows_t, rows_a)


def histories_from_rows(
    patients: list[dict[str, Any]], treatments: list[dict[str, Any]], assessments: list[dict[str, Any]]
) -> list[PatientHistory]:
    """Patient histories from checked rows (as the ``_Checker`` gives them), ordered as the database reads them:
    patients by id, treatments by date, area and id, assessments by date, area and rater."""
    areas: dict[str, dict[str, AreaHistory]] = {p["external_id"]: {} for p in patients}

    def area_of(patient_id: str, area: str) -> AreaHistory:
        found = areas[patient_id].get(area)
        if found is None:
            found = areas[patient_id][area] = AreaHistory(area)
        return found

    for t in sorted(treatments, key=lambda t: (t["date"], t["area"], t["treatment_id"])):
        area_of(t["patient_id"], t["area"]).treatments.append(
            TreatmentRecord(
                treatment_id=t["treatment_id"],
                date=t["date"],
                product=t["product"],
                area=t["area"],
                units=t["units"],
                lot=t["lot"],
                expiry=t["expiry"],
                dilution_ml=t["dilution_ml"],
                injector=t["injector"],
            )
        )
    for a in sorted(assessments, key=lambda a: (a["date"], a["area"], a["rater"])):
        record = AssessmentRecord(a["date"], a["area"], a["severity"], a["rater"], a["severity_rest"])
        area_of(a["patient_id"], a["area"]).assessments.append(record)
    return [
        PatientHistory(
            PatientInfo(p["external_id"], p["sex"], p["birth_year"], p["activity"]),
            dict(sorted(areas[p["external_id"]].items())),
        )
        for p in sorted(patients, key=lambda p: p["external_id"])
    ]
