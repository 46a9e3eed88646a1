"""Treatments (one area in one session) and the warnings of the safety guards."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from wearoff.web.schemas.common import PUBLIC, STRICT_INPUT, Code, Id, ShortText


class Point(BaseModel):
    """An injection point on the face map (SVG coordinates) with its units."""

    model_config = STRICT_INPUT
    x: float
    y: float
    units: float


class TreatmentCreate(BaseModel):
    """A treatment to chart: units in the product's own units (per side for per-side areas)."""

    model_config = STRICT_INPUT
    date: dt.date
    product: Code = Field(examples=["onabotulinumtoxinA"])  # type: ignore[valid-type]
    area: Code = Field(examples=["glabellar"])  # type: ignore[valid-type]
    units: float = Field(examples=[20])
    lot: ShortText | None = None  # type: ignore[valid-type]
    expiry: dt.date | None = None
    dilution_ml: float | None = None
    injector: ShortText | None = None  # type: ignore[valid-type]
    points: list[Point] | None = Field(default=None, max_length=100)
    treatment_id: Id | None = None  # type: ignore[valid-type]


class FlagPublic(BaseModel):
    model_config = PUBLIC
    code: str
    level: str
    message: str
    source: str


class PointPublic(BaseModel):
    x: float
    y: float
    units: float


class RecordTreatmentPublic(BaseModel):
    """A treatment as the records hold it (one area treated on one date)."""

    model_config = PUBLIC
    treatment_id: str
    date: dt.date
    product: str
    area: str
    units: float
    lot: str | None
    expiry: dt.date | None
    dilution_ml: float | None
    injector: str | None


class TreatmentPublic(RecordTreatmentPublic):
    """A stored treatment with its injection points on the face map."""

    points: list[PointPublic] | None


class TreatmentCreated(BaseModel):
    treatment: TreatmentPublic
    warnings: list[FlagPublic]


class TreatmentCheckPublic(BaseModel):
    """What the guards say about a treatment before it is saved, and when it would wear off."""

    warnings: list[FlagPublic]
    wear_off_day_median: float | None
    wear_off_day_lower90: float | None
    wear_off_day_upper90: float | None
    rebook_from: dt.date | None
    rebook_to: dt.date | None


class VoidCreate(BaseModel):
    """Why a record entered in error is voided."""

    model_config = STRICT_INPUT
    reason: ShortText = Field(description="Why the record is voided (kept in the audit trail)")
