"""Plain values of clinic records: what the database and the CSV files give the planner and the web app.

No database here: these are frozen dataclasses, read once and used without a session.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PatientInfo:
    """A patient as the clinic knows them (``patient_id`` is the clinic's own id)."""

    patient_id: str
    sex: str
    birth_year: int
    activity: str
    voided: bool = False


@dataclass(frozen=True)
class TreatmentRecord:
    """One area treated on one date (units in the product's own units)."""

    treatment_id: str
    date: dt.date
    product: str
    area: str
    units: float
    lot: str | None = None
    expiry: dt.date | None = None
    dilution_ml: float | None = None
    injector: str | None = None


@dataclass(frozen=True)
class AssessmentRecord:
    """A severity score of one area (0-3 at maximal contraction; ``severity_rest`` at rest, if scored)."""

    date: dt.date
    area: str
    severity: int
    rater: str
    severity_rest: int | None = None


@dataclass(frozen=True)
class AreaHistory:
    """Everything recorded for one area of one patient, oldest first."""

    area: str
    treatments: list[TreatmentRecord] = field(default_factory=list)
    assessments: list[AssessmentRecord] = field(default_factory=list)


@dataclass(frozen=True)
class PatientHistory:
    """A patient and their history per area (areas sorted by code); voided rows are left out."""

    patient: PatientInfo
    areas: dict[str, AreaHistory]


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses and mappings recursively, dates as ISO text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value
