r"""From clinic records to interval-censored wear-off durations: one row per treatment.

Derivation
----------
For a patient's area with treatments on days :math:`d_1 < d_2 < \dots` and the area's untreated grade
:math:`g` (:func:`wearoff.plan.history.baseline_severity`: the highest pre-treatment score, clinicians first),
treatment :math:`k` is followed by the **clinician** scores :math:`(t_j, s_j)` with
:math:`d_k < \text{date} \le d_{k+1}` (a score on the day of the next treatment is that treatment's pre-treatment
score, taken before the injection, so it still tells about treatment :math:`k`), with
:math:`t_j = \text{date}_j - d_k` in days. The effect is *present* at a score with :math:`s_j < g` and *gone*
when :math:`s_j \ge g` (back at the pre-treatment severity). With :math:`j^*` the first score at :math:`s \ge g`:

=============================================  ==========================  ==========================
follow-up                                       ``lower``                   ``upper``
=============================================  ==========================  ==========================
a return, scores with effect before it          last :math:`t_j < t_{j^*}`  :math:`t_{j^*}`
                                                with :math:`s_j < g`
a return at the first follow-up score           0 (left-censored)           :math:`t_{j^*}`
no return (effect at every score)               last :math:`t_j`            :math:`\infty`
=============================================  ==========================  ==========================

so the wear-off day :math:`T` (back at the pre-treatment grade, the model's ``wear_off_day``) lies in
``(lower, upper]``. A treatment re-treated before any return is right-censored at its last score with effect
(the re-treatment day itself says nothing about whether the effect was still there, since patients often come back
*because* it wore off); ``censor_at_retreatment=True`` instead right-censors at the next treatment's day.

Patient scores are not used for the interval: patients and clinicians rate differently (patients are the more
optimistic raters in the trials), and mixing them would move the event with the rater. A treatment whose only
follow-up is patient-rated is excluded and counted as ``patient_only``. Treatments without any follow-up score
are excluded (``no_followup``), and so are areas whose untreated grade is unknown or 0 (``no_baseline``): there is
nothing to return to. :func:`treatment_durations` returns the rows and these counts.

Doses: ``ona_units`` are the product's units times the catalogue's onabotulinumtoxinA equivalence
(``ona_units_per_unit``); for ``per_side`` areas (masseter, axillae) units are per side, as is the area's
``reference_units``, and ``ona_units_total`` doubles them. ``log_relative_dose`` is
:math:`\log(\text{ona units}/\text{reference units})`. ``prior_treatments`` counts the area's earlier treatments
within :data:`wearoff.plan.history.CONDITIONING_WINDOW_DAYS` days (conditioning).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from wearoff.catalog import Catalog, load_catalog
from wearoff.plan.history import baseline_severity, regular_treatments
from wearoff.records.values import AssessmentRecord, PatientHistory, TreatmentRecord

__all__ = ["COLUMNS", "Durations", "treatment_durations", "wear_off_interval"]

COLUMNS = (
    "patient_id",
    "treatment_id",
    "date",
    "area",
    "product",
    "units",
    "ona_units",
    "ona_units_total",
    "per_side",
    "log_relative_dose",
    "sex",
    "activity",
    "injector",
    "prior_treatments",
    "baseline",
    "n_followup",
    "lower",
    "upper",
    "censoring",
)
"""Columns of :attr:`Durations.table`, in order."""


@dataclass
class Durations:
    """The interval-censored durations of a clinic and what was left out.

    ``table`` has one row per usable treatment (:data:`COLUMNS`); ``excluded`` counts treatments left out by reason
    (``no_followup``, ``patient_only``, ``no_baseline``); ``n_treatments`` is every treatment seen;
    ``followup_days`` gives, per treatment id of the table, the days after it of the clinician scores its interval
    was read from (what a predictive check needs to observe the model as the clinic observed its patients).
    """

    table: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)
    n_treatments: int = 0
    followup_days: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def n_excluded(self) -> int:
        return sum(self.excluded.values())


def wear_off_interval(days: Iterable[float], severities: Iterable[int], baseline: int) -> tuple[float, float]:
    """``(lower, upper)`` of the wear-off day from follow-up scores (days after the treatment, in time order)
    and the untreated grade; see the module docstring. At least one score is needed."""
    days = list(days)
    severities = list(severities)
    if not days:
        raise ValueError("a wear-off interval needs at least one follow-up score")
    lower = 0.0
    for day, severity in zip(days, severities, strict=True):
        if severity >= baseline:
            return lower, float(day)
        lower = float(day)
    return lower, math.inf


def _censoring(lower: float, upper: float) -> str:
    if math.isinf(upper):
        return "right"
    return "left" if lower == 0.0 else "interval"


def _area_rows(
    history: PatientHistory,
    treatments: list[TreatmentRecord],
    scores: list[AssessmentRecord],
    catalog: Catalog,
    excluded: dict[str, int],
    censor_at_retreatment: bool,
    followup_days: dict[str, tuple[float, ...]],
) -> list[dict]:
    rows: list[dict] = []
    grade = baseline_severity(scores, treatments)
    if grade is None:
        excluded["no_baseline"] += len(treatments)
        return rows
    clinician = sorted((a for a in scores if a.rater == "clinician"), key=lambda a: a.date)
    patient = history.patient
    for i, t in enumerate(treatments):
        following = treatments[i + 1].date if i + 1 < len(treatments) else None
        window = [a for a in clinician if t.date < a.date and (following is None or a.date <= following)]
        if not window:
            others = [a for a in scores if t.date < a.date and (following is None or a.date <= following)]
            excluded["patient_only" if others else "no_followup"] += 1
            continue
        days = [float((a.date - t.date).days) for a in window]
        lower, upper = wear_off_interval(days, [a.severity for a in window], grade)
        followup_days[t.treatment_id] = tuple(days)
        if censor_at_retreatment and math.isinf(upper) and following is not None:
            lower = max(lower, float((following - t.date).days))
        area = catalog.area(t.area)
        ona = float(t.units) * catalog.product(t.product).ona_units_per_unit.value
        per_side = area.units_are == "per_side"
        rows.append(
            {
                "patient_id": patient.patient_id,
                "treatment_id": t.treatment_id,
                "date": pd.Timestamp(t.date),
                "area": t.area,
                "product": t.product,
                "units": float(t.units),
                "ona_units": ona,
                "ona_units_total": ona * (2.0 if per_side else 1.0),
                "per_side": per_side,
                "log_relative_dose": math.log(ona / area.reference_units.value) if ona > 0 else -math.inf,
                "sex": patient.sex,
                "activity": patient.activity,
                "injector": t.injector or "unrecorded",
                "prior_treatments": regular_treatments(treatments[:i], t.date),
                "baseline": grade,
                "n_followup": len(window),
                "lower": lower,
                "upper": upper,
                "censoring": _censoring(lower, upper),
            }
        )
    return rows


def treatment_durations(
    histories: Iterable[PatientHistory],
    catalog: Catalog | None = None,
    *,
    censor_at_retreatment: bool = False,
) -> Durations:
    """One row per treatment with its dose, patient, injector and wear-off interval (module docstring)."""
    catalog = catalog or load_catalog()
    excluded = {"no_followup": 0, "patient_only": 0, "no_baseline": 0}
    rows: list[dict] = []
    followup_days: dict[str, tuple[float, ...]] = {}
    n_treatments = 0
    for history in histories:
        for area in history.areas.values():
            treatments = sorted(area.treatments, key=lambda t: (t.date, t.treatment_id))
            n_treatments += len(treatments)
            if treatments:
                rows += _area_rows(history, treatments, list(area.assessments), catalog, excluded,
                                   censor_at_retreatment, followup_days)  # fmt: skip
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    if not table.empty:
        table = table.sort_values(["patient_id", "date", "area", "treatment_id"], ignore_index=True)
    table = table.astype({"lower": float, "upper": float, "units": float, "ona_units": float})
    table["prior_treatments"] = table["prior_treatments"].astype(np.int64)
    return Durations(table, excluded, n_treatments, followup_days)
