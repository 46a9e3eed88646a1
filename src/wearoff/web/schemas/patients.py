"""Patients."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from wearoff.model.treatment import Activity, Sex
from wearoff.web.schemas.common import PUBLIC, STRICT_INPUT, Id, text


class PatientCreate(BaseModel):
    """A new patient: the clinic's own id and the demographics the model uses."""

    model_config = STRICT_INPUT
    patient_id: Id = Field(examples=["P00042"])  # type: ignore[valid-type]
    sex: Sex
    birth_year: int = Field(examples=[1984])
    activity: Activity = "moderate"


class PatientUpdate(BaseModel):
    """A correction of demographics, kept as an amendment with its reason (the old values stay on record)."""

    model_config = STRICT_INPUT
    sex: Sex | None = None
    birth_year: int | None = None
    activity: Activity | None = None
    reason: text(200, 1)  # type: ignore[valid-type]


class PatientPublic(BaseModel):
    model_config = PUBLIC
    patient_id: str
    sex: str
    birth_year: int
    activity: str


class PatientListItem(PatientPublic):
    last_treated: dt.date | None
    treatments: int


class PatientList(BaseModel):
    items: list[PatientListItem]
    total: int
