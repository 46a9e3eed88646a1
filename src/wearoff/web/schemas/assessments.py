"""Follow-up scores."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from wearoff.web.schemas.common import PUBLIC, STRICT_INPUT, Code, ShortText


class AssessmentCreate(BaseModel):
    """A clinician's score of one area: severity 0-3 at maximal contraction (optionally at rest)."""

    model_config = STRICT_INPUT
    area: Code = Field(examples=["glabellar"])  # type: ignore[valid-type]
    date: dt.date
    severity: int = Field(examples=[1])
    severity_rest: int | None = None


class AssessmentPublic(BaseModel):
    model_config = PUBLIC
    date: dt.date
    area: str
    severity: int
    rater: str
    severity_rest: int | None


class AssessmentVoid(BaseModel):
    """Which score was entered in error (one per patient, area, date and rater), and why."""

    model_config = STRICT_INPUT
    area: Code = Field(examples=["glabellar"])  # type: ignore[valid-type]
    date: dt.date
    rater: Literal["clinician", "patient"] = "clinician"
    reason: ShortText = Field(description="Why the score is voided (kept in the audit trail)")  # type: ignore[valid-type]
