"""Follow-up scores."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from wearoff.web.schemas.common import PUBLIC, STRICT_INPUT, Code


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
