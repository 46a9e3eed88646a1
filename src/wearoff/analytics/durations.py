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
nothing to return to. Treatments with a product that holds no toxin (a placebo: no dose, no duration) are excluded
too (``no_toxin``). :func:`treatment_durations` returns the rows and these counts.

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

__all__ = ["COLUMNS", "Durations", "observed_intervals", "treatment_durations", "wear_off_interval"]

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


EXCLUDED_BECAUSE = {
    "no_followup": "without a clinician follow-up score",
    "patient_only": "with the patient's own scores only",
    "no_baseline": "in an area whose untreated severity was never scored",
    "no_toxin": "of a product that holds no toxin (placebo: no duration to read)",
}
"""Each reason a treatment is left out of the durations, in words."""


@dataclass
class Durations:
    """The interval-censored durations of a clinic and what was left out.

    ``table`` has one row per usable treatment (:data:`COLUMNS`); ``excluded`` counts treatments left out by reason
    (``no_followup``, ``patient_only``, ``no_baseline``, ``no_toxin``); ``n_treatments`` is every treatment seen;
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

    def none_readable(self) -> str:
        """Why no treatment could be read as a duration, every reason counted, and what to record."""
        reasons = ", ".join(f"{EXCLUDED_BECAUSE[k]}: {n}" for k, n in self.excluded.items() if n)
        return (
            f"none of the {self.n_treatments} treatments can be read as a duration ({reasons or 'no treatments'}); "
            "record the pre-treatment severity and a clinician's score at follow-up visits"
        )


def wear_off_interval(days: Iterable[float], severities: Iterable[int], baseline: int) -> tuple[float, float]:
    """``(lower, upper)`` of the wear-off day from follow-up scores (days after the treatment, in time order)
    and the untreated grade; see the module docstring. At least one score is needed."""
    days = np.asarray(list(days), dtype=float)
    if days.size == 0:
        raise ValueError("a wear-off interval needs at least one follow-up score")
    scores = np.asarray(list(severities))
    if scores.shape != days.shape:
        raise ValueError("give one severity per follow-up day")
    lower, upper = observed_intervals(days[None, :], scores[None, :, None], np.array([float(baseline)]))
    return float(lower[0, 0]), float(upper[0, 0])


def observed_intervals(days: np.ndarray, severities: np.ndarray, baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)`` (K, R) of the wear-off intervals of K treatments in R sets of scores (the module
    docstring's rule; :func:`wear_off_interval` for one treatment and one set).

    ``days`` (K, V) are each treatment's scoring days in time order, padded with NaN; ``severities`` (K, V, R)
    the scores of R draws; ``baseline`` (K,) the untreated grades. Upper: the first day scored at baseline or
    worse (infinite if none); lower: the scoring day before it (0 if it is the first), or the last day scored.
    """
    valid = np.isfinite(days)[:, :, None]
    back = (severities >= baseline[:, None, None]) & valid
    returned = back.any(axis=1)  # (K, R)
    first = np.argmax(back, axis=1)  # (K, R): the first score at baseline, where there is one
    n_valid = valid[:, :, 0].sum(axis=1)  # (K,)
    rows = np.arange(days.shape[0])[:, None]
    upper = np.where(returned, days[rows, first], np.inf)
    before = np.where(returned, first - 1, n_valid[:, None] - 1)
    lower = np.where(before >= 0, days[rows, np.maximum(before, 0)], 0.0)
    return lower, upper


@dataclass(frozen=True)
class _Reading:
    """A row's clinician scores (days after the treatment, severities) and the day it was treated again (NaN if
    not), read into its interval for all rows at once by :func:`observed_intervals`."""

    days: tuple[float, ...]
    severities: tuple[int, ...]
    retreated: float


def _read_intervals(rows: list[dict], readings: list[_Reading], censor_at_retreatment: bool) -> None:
    """Fill ``lower``, ``upper`` and ``censoring`` of every row from its reading (one vectorised pass)."""
    if not rows:
        return
    days = np.full((len(rows), max(len(r.days) for r in readings)), np.nan)
    severities = np.zeros((*days.shape, 1), dtype=np.int64)
    for k, r in enumerate(readings):
        days[k, : len(r.days)] = r.days
        severities[k, : len(r.days), 0] = r.severities
    lower, upper = observed_intervals(days, severities, np.array([row["baseline"] for row in rows], float))
    lower, upper = lower[:, 0], upper[:, 0]
    if censor_at_retreatment:
        retreated = np.array([r.retreated for r in readings])
        lower = np.where(np.isinf(upper) & np.isfinite(retreated), np.fmax(lower, retreated), lower)
    censoring = np.where(np.isinf(upper), "right", np.where(lower == 0.0, "left", "interval"))
    for row, lo, hi, kind in zip(rows, lower, upper, censoring, strict=True):
        row["lower"], row["upper"], row["censoring"] = float(lo), float(hi), str(kind)


def _area_rows(
    history: PatientHistory,
    treatments: list[TreatmentRecord],
    scores: list[AssessmentRecord],
    catalog: Catalog,
    excluded: dict[str, int],
    readings: list[_Reading],
) -> list[dict]:
    rows: list[dict] = []
    grade = baseline_severity(scores, treatments)
    if grade is None:
        excluded["no_baseline"] += len(treatments)
        return rows
    clinician = sorted((a for a in scores if a.rater == "clinician"), key=lambda a: a.date)
    patient = history.patient
    for i, t in enumerate(treatments):
        if not catalog.product(t.product).is_toxin:
            excluded["no_toxin"] += 1
            continue
        following = treatments[i + 1].date if i + 1 < len(treatments) else None
        window = [a for a in clinician if t.date < a.date and (following is None or a.date <= following)]
        if not window:
            others = [a for a in scores if t.date < a.date and (following is None or a.date <= following)]
            excluded["patient_only" if others else "no_followup"] += 1
            continue
        readings.append(
            _Reading(
                tuple(float((a.date - t.date).days) for a in window),
                tuple(a.severity for a in window),
                float((following - t.date).days) if following is not None else math.nan,
            )
        )
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
    excluded = {"no_followup": 0, "patient_only": 0, "no_baseline": 0, "no_toxin": 0}
    rows: list[dict] = []
    readings: list[_Reading] = []
    n_treatments = 0
    for history in histories:
        for area in history.areas.values():
            treatments = sorted(area.treatments, key=lambda t: (t.date, t.treatment_id))
            n_treatments += len(treatments)
            if treatments:
                rows += _area_rows(history, treatments, list(area.assessments), catalog, excluded, readings)
    _read_intervals(rows, readings, censor_at_retreatment)
    followup_days = {row["treatment_id"]: r.days for row, r in zip(rows, readings, strict=True)}
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    if not table.empty:
        table = table.sort_values(["patient_id", "date", "area", "treatment_id"], ignore_index=True)
    table = table.astype({"lower": float, "upper": float, "units": float, "ona_units": float})
    table["prior_treatments"] = table["prior_treatments"].astype(np.int64)
    return Durations(table, excluded, n_treatments, followup_days)
