"""A treatment as the model sees it, and its translation into the model's covariates.

The relative dose of a treatment is

    r = units * potency_p * (1 - f_nab) / (reference_units_a * exp(male_need * male + area_need_a
                                                          - conditioning * min(n_prior, n_max)))

with ``potency_p`` the product's onabotulinumtoxinA-equivalent units per unit (catalogue), ``f_nab`` the share
of the dose neutralised by antibodies, ``reference_units_a`` the area's label dose for a woman (catalogue),
``male_need`` and ``area_need_a`` fitted to the evidence and the conditioning term a weak prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from wearoff.catalog import Catalog, CatalogError, load_catalog
from wearoff.model.parameters import Parameters

Sex = Literal["female", "male"]
Activity = Literal["low", "moderate", "high"]
ACTIVITY_INDEX = {"low": 0, "moderate": 1, "high": 2}
MAX_ONA_EQUIVALENT_UNITS = 600.0
"""Doses above this (onabotulinumtoxinA-equivalent units in one area and session) are refused as absurd:
1.5 times the label cap of 400 U in a 3-month interval (evidence README)."""


class TreatmentError(ValueError):
    """A treatment the model cannot forecast: the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Treatment:
    """One area treated in one session, with what is known of the patient.

    ``units`` are in the product's own units (per side where the area's catalogue entry says ``per_side``).
    ``antibody_fraction`` is the share of the dose neutralised by antibodies (0 for almost every patient).
    ``baseline_severity`` (1-3 at maximal contraction) is the patient's untreated score if known; unknown, the
    model uses the trial mix of moderate (2) and severe (3).
    """

    product: str
    area: str
    units: float
    sex: Sex = "female"
    age: float | None = None
    activity: Activity = "moderate"
    prior_treatments: int = 0
    antibody_fraction: float = 0.0
    baseline_severity: int | None = None

    def validated(self, catalog: Catalog | None = None) -> Treatment:
        """This treatment if it is well formed, else a :class:`TreatmentError` saying what is wrong."""
        catalog = catalog or load_catalog()
        try:
            product = catalog.product(self.product)
            catalog.area(self.area)
        except CatalogError as exc:
            raise TreatmentError(str(exc)) from None
        if not isinstance(self.units, int | float) or not math.isfinite(self.units):
            raise TreatmentError(f"units must be a number, not {self.units!r}")
        if self.units < 0 or (self.units == 0 and product.is_toxin):
            raise TreatmentError(f"units must be positive, not {self.units:g}")
        ona_units = self.units * product.ona_units_per_unit.value
        if ona_units > MAX_ONA_EQUIVALENT_UNITS:
            raise TreatmentError(
                f"{self.units:g} U of {self.product} is {ona_units:g} onabotulinumtoxinA-equivalent units, above "
                f"the {MAX_ONA_EQUIVALENT_UNITS:g} U this model accepts for one area; check the units"
            )
        if self.sex not in ("female", "male"):
            raise TreatmentError(f"sex must be female or male, not {self.sex!r}")
        if self.activity not in ACTIVITY_INDEX:
            raise TreatmentError(f"activity must be low, moderate or high, not {self.activity!r}")
        if self.age is not None and not 12 <= self.age <= 110:
            raise TreatmentError(f"age must be between 12 and 110 years, not {self.age:g}")
        if not isinstance(self.prior_treatments, int) or self.prior_treatments < 0:
            raise TreatmentError(f"prior treatments must be a whole number >= 0, not {self.prior_treatments!r}")
        if not 0.0 <= self.antibody_fraction < 1.0:
            raise TreatmentError(f"antibody fraction must be in [0, 1), not {self.antibody_fraction:g}")
        if self.baseline_severity not in (None, 1, 2, 3):
            raise TreatmentError(f"baseline severity must be 1, 2 or 3, not {self.baseline_severity!r}")
        return self


@dataclass(frozen=True)
class Covariates:
    """Numeric covariates of one or more treatments, as arrays of one length (the model's input).

    ``log_rel_dose`` is the log relative dose before sex and area need; ``male`` the share of men (0 or 1 for
    a patient, a fraction never: arms mix sexes explicitly); the offsets are sums of fitted family members.
    """

    log_dose: np.ndarray
    male: np.ndarray
    need_offset: np.ndarray
    area_activity: np.ndarray
    duration_offset: np.ndarray
    onset_offset: np.ndarray

    def effective_log_dose(self, params: Parameters) -> np.ndarray:
        """log r: the log relative dose after the patient's and the area's need."""
        return self.log_dose - params["male_need"] * self.male - self.need_offset


def covariates_for(treatments: list[Treatment], params: Parameters, catalog: Catalog | None = None) -> Covariates:
    """Translate treatments into the model's covariates (see the module docstring for the formula)."""
    catalog = catalog or load_catalog()
    log_dose, male, need, act, dur, onset = [], [], [], [], [], []
    n_max = params["conditioning_max_treatments"]
    for t in treatments:
        product = catalog.product(t.product)
        area = catalog.area(t.area)
        ona_units = t.units * product.ona_units_per_unit.value * (1.0 - t.antibody_fraction)
        log_dose.append(math.log(ona_units / area.reference_units.value) if ona_units > 0 else -np.inf)
        male.append(1.0 if t.sex == "male" else 0.0)
        conditioning = params["conditioning_per_treatment"] * min(t.prior_treatments, n_max)
        need.append(params.family("area_need", t.area) + params.family("product_need", t.product) - conditioning)
        act.append(ACTIVITY_INDEX[area.activity.value])
        patient = {"low": params["patient_activity_low"], "high": params["patient_activity_high"]}
        dur.append(
            params.family("area_duration", t.area)
            + params.family("product_duration", t.product)
            + patient.get(t.activity, 0.0)
        )
        onset.append(params.family("product_onset", t.product))
    as_array = np.asarray
    return Covariates(
        as_array(log_dose, float),
        as_array(male, float),
        as_array(need, float),
        as_array(act, float),
        as_array(dur, float),
        as_array(onset, float),
    )
