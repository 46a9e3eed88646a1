"""Tokens, appointments, the audit log, imports and analytics."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from wearoff.web.schemas.common import PUBLIC, STRICT_INPUT, text


class TokenCreate(BaseModel):
    """Sign in for an API token: the user's name and password, and a name for the token."""

    model_config = STRICT_INPUT
    username: text(64, 1)  # type: ignore[valid-type]
    password: str
    name: text(100, 1) = "api"  # type: ignore[valid-type]


class TokenPublic(BaseModel):
    """A new token: ``token`` is shown this once; send it as ``Authorization: Bearer <token>``."""

    token: str
    name: str
    prefix: str
    created_at: dt.datetime


class MePublic(BaseModel):
    model_config = PUBLIC
    username: str
    display_name: str
    role: str
    clinic: str


class AppointmentCreate(BaseModel):
    model_config = STRICT_INPUT
    date: dt.date
    note: text(200) | None = None  # type: ignore[valid-type]


class AppointmentPublic(BaseModel):
    model_config = PUBLIC
    id: int
    patient_id: str
    date: dt.date
    note: str | None
    booked_by: str


class AuditEntryPublic(BaseModel):
    model_config = PUBLIC
    id: int
    at: dt.datetime
    username: str
    action: str
    entity: str
    entity_id: str | None
    before: Any
    after: Any


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    total: int


class ImportReportPublic(BaseModel):
    patients_added: int
    patients_unchanged: int
    treatments_added: int
    treatments_unchanged: int
    assessments_added: int
    assessments_unchanged: int


class DurationRowPublic(BaseModel):
    model_config = PUBLIC
    group: str
    label: str
    treatments: int
    observed: int
    median_days: float | None
    q25_days: float | None
    q75_days: float | None


class AnalyticsPublic(BaseModel):
    """Observed wear-off in this clinic's records (days to the first clinician score back at baseline)."""

    model_config = PUBLIC
    by_area: list[DurationRowPublic]
    by_product: list[DurationRowPublic]
    by_injector: list[DurationRowPublic]
    treatments: int
    observed: int
