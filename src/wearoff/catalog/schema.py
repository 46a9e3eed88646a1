"""Typed schema of the catalogue: products and treatment areas.

Every number in the catalogue is a :class:`Sourced` value: the number, where it comes from, and whether the
evidence behind it is weak. The loader refuses a catalogue file in which a number has no source.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ActivityLevel = Literal["low", "moderate", "high"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(_Strict):
    """A catalogue number with its provenance."""

    value: float
    source: str = Field(min_length=3)
    weak: bool = False
    note: str = ""


class SourcedFlag(_Strict):
    """A yes/no fact with its provenance."""

    value: bool
    source: str = Field(min_length=3)
    weak: bool = False
    note: str = ""


class SourcedText(_Strict):
    """A categorical fact (a code such as ``powder`` or ``high``) with its provenance."""

    value: str
    source: str = Field(min_length=3)
    weak: bool = False
    note: str = ""


class SourcedRange(_Strict):
    """A typical range (low..high) with its provenance."""

    low: float
    high: float
    source: str = Field(min_length=3)
    weak: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> SourcedRange:
        if self.low > self.high:
            raise ValueError(f"range low {self.low} is above high {self.high}")
        return self


class Product(_Strict):
    """A botulinum toxin product (or placebo) as the evidence names it.

    ``ona_units_per_unit`` converts the product's own units into onabotulinumtoxinA-equivalent units: the
    common potency scale the model uses for the relative dose.
    """

    code: str
    brands: list[str] = []
    manufacturer: str = ""
    is_toxin: bool = True
    formulation: SourcedText
    complexing_proteins: SourcedFlag
    ona_units_per_unit: Sourced
    label_glabellar_units: Sourced | None = None
    label_min_interval_days: Sourced
    duration_property: SourcedText | None = None


class Area(_Strict):
    """A treatment area: how big and busy its muscle is and what dose it needs.

    ``reference_units`` (onabotulinumtoxinA units, for a woman) is the dose at which the relative dose of
    the model is 1. ``units_are`` says whether a dose is entered per side (masseter, axilla) or for the area.
    """

    code: str
    label: str
    kind: Literal["aesthetic", "therapeutic"]
    target: Literal["muscle", "gland"]
    units_are: Literal["total", "per_side"] = "total"
    muscle_size: SourcedText
    activity: SourcedText
    reference_units: Sourced
    typical_units_female: SourcedRange
    typical_units_male: SourcedRange
    label_max_units: Sourced
    typical_female_pct: Sourced
    scale: str = ""

    @property
    def short_label(self) -> str:
        """The label without its parenthesis: "Lateral canthal lines" for a table or a chart."""
        return self.label.split(" (")[0]

    @model_validator(mode="after")
    def _codes(self) -> Area:
        if self.activity.value not in ("low", "moderate", "high"):
            raise ValueError(f"area {self.code}: activity must be low, moderate or high, not {self.activity.value}")
        if self.muscle_size.value not in ("small", "medium", "large"):
            raise ValueError(f"area {self.code}: muscle_size must be small, medium or large")
        return self
