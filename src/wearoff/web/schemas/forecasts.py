"""Forecasts: a patient's plan per area, an ad-hoc forecast, the due list."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from wearoff.web.schemas.assessments import AssessmentPublic
from wearoff.web.schemas.common import PUBLIC, STRICT_INPUT, Code
from wearoff.web.schemas.patients import Activity, Sex
from wearoff.web.schemas.treatments import FlagPublic, RecordTreatmentPublic


class IntervalPublic(BaseModel):
    """A median (days) and its 90 % interval."""

    model_config = PUBLIC
    median: float | None
    lower90: float | None
    upper90: float | None


class CurvePublic(BaseModel):
    """Effect (0-1 of the muscle's pull removed) by day since injection: median and 90 % band."""

    model_config = PUBLIC
    days: list[float]
    median: list[float]
    lower90: list[float]
    upper90: list[float]


class ModelTreatmentPublic(BaseModel):
    model_config = PUBLIC
    product: str
    area: str
    units: float
    sex: str
    age: float | None
    activity: str
    prior_treatments: int
    antibody_fraction: float
    baseline_severity: int | None


class ForecastPublic(BaseModel):
    model_config = PUBLIC
    treatment: ModelTreatmentPublic
    relative_dose: float | None
    response_share: float | None
    none_mild_at_peak: float | None
    onset_day: IntervalPublic | None
    peak_day: IntervalPublic
    wear_off_day: IntervalPublic
    wear_off_quartiles: tuple[float | None, float | None]
    none_mild_until_day: IntervalPublic
    none_mild_back_at_baseline_day: IntervalPublic | None
    curve: CurvePublic


class WindowPublic(BaseModel):
    model_config = PUBLIC
    opens: dt.date
    closes: dt.date
    held_by_label_interval: bool


class EffectPublic(BaseModel):
    """A factor's (or an alternative's) change of the median wear-off day, with how strong its evidence is."""

    model_config = PUBLIC
    factor: str
    description: str
    days: float | None
    evidence: str
    weak: bool


class ScorePublic(BaseModel):
    model_config = PUBLIC
    day: float
    severity: int
    rater: str
    date: dt.date


class AreaPlanPublic(BaseModel):
    """One treated area: the latest treatment's forecast, its re-booking window, flags, reasons and advice."""

    model_config = PUBLIC
    area: str
    latest: RecordTreatmentPublic
    treatments: list[RecordTreatmentPublic]
    assessments: list[AssessmentPublic]
    forecast: ForecastPublic
    window: WindowPublic
    window_days: tuple[int, int]
    flags: list[FlagPublic]
    reference_day: float | None
    effects: list[EffectPublic]
    advice: list[EffectPublic]
    scores: list[ScorePublic]


class PatientForecastPublic(BaseModel):
    patient_id: str
    as_of: dt.date
    areas: list[AreaPlanPublic]


class AdhocForecastCreate(BaseModel):
    """A treatment described by hand: what the model expects of it for a patient like this."""

    model_config = STRICT_INPUT
    product: Code = Field(examples=["onabotulinumtoxinA"])  # type: ignore[valid-type]
    area: Code = Field(examples=["glabellar"])  # type: ignore[valid-type]
    units: float = Field(examples=[20])
    sex: Sex = "female"
    activity: Activity = "moderate"
    prior_treatments: int = Field(default=0, ge=0, le=100)
    age: float | None = None
    baseline_severity: int | None = Field(default=None, ge=1, le=3)


class DueEntryPublic(BaseModel):
    model_config = PUBLIC
    patient_id: str
    area: str
    treatment_id: str
    treatment_date: dt.date
    opens: dt.date
    closes: dt.date
    wear_off_median: float
    wear_off_lower90: float
    wear_off_upper90: float
    status: str
