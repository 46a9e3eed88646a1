r"""What the analytics report says, computed from a clinic's durations (no drawing, no HTML here).

* :func:`survival_by`: the Turnbull NPMLE of time to wear-off per level of a column (area, product, injector).
* :func:`fit_effects`: a log-normal AFT with a patient random intercept,
  :math:`\log T = \beta_0 + x^\top\beta + b_{\text{patient}} + \sigma\varepsilon`, :math:`\varepsilon \sim N(0,1)`,
  reported as time ratios :math:`e^{\beta_j}` with 95 % Wald intervals :math:`e^{\beta_j \pm 1.96\,se_j}`.
* :func:`compare_with_model`: per area and product with enough data, the clinic's Turnbull median with a 95 %
  patient-level bootstrap interval (patients resampled with replacement, so a patient's treatments stay together)
  against what the shipped model predicts that median to be when its patients are scored as the clinic scored its
  own (:mod:`wearoff.analytics.predictive`); the model's forecast of the wear-off day at the clinic's typical dose
  is shown beside it.
* :func:`clinic_time_ratio`: the duration model's level refitted to the clinic's follow-up scores
  (:mod:`wearoff.inference.clinic_level`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from wearoff.analytics.design import aft_design
from wearoff.analytics.predictive import predicted_medians
from wearoff.catalog import load_catalog
from wearoff.inference.clinic_level import ClinicTimeRatio, NoScoresError, fit_clinic_time_ratio
from wearoff.model.forecast import forecast
from wearoff.model.parameters import load_parameters
from wearoff.model.treatment import Treatment
from wearoff.plan.history import patient_episodes
from wearoff.records.values import PatientHistory
from wearoff.survival import IntervalAFT, TurnbullNPMLE, turnbull

__all__ = [
    "CurveGroup",
    "Effect",
    "ModelComparison",
    "clinic_time_ratio",
    "compare_with_model",
    "fit_effects",
    "survival_by",
]

FAMILY = "lognormal"
"""AFT family of the report (log-normal: the best log-likelihood of the three on simulated clinics, and a
closed-form marginal median)."""
MIN_ROWS = 20
"""Fewest treatments of an area and product for a comparison with the model."""
RELEVANT_RATIO = 1.25
"""A time ratio that matters to a clinic: a quarter longer or a fifth shorter, a month longer or three and a half
weeks shorter on the four months a glabellar treatment lasts (a choice of the report, not an estimate). An effect
whose 95 % interval reaches past it on both sides is marked imprecise: the records cannot tell whether it
matters."""
MIN_EVENTS = 10
"""Fewest observed returns (finite upper bound) for a comparison with the model."""
PREDICTIVE_DRAWS = 100
"""Draws of the model observed like the clinic, per area and product. The 90 % range's ends are the 5th and 95th
of 100 draws, each resting on a handful of draws in its tail; with this count the check called 3 of 46 groups on
clinics simulated from the model (``tests/analytics/test_predictive.py``), as a 90 % check should."""
WEAK_COVARIATES = {"activity_low", "activity_high", "prior_treatments"}
"""Effects the published evidence says little about (exercise, conditioning): always flagged as weak evidence."""


@dataclass
class CurveGroup:
    """One level's Turnbull curve: the upper and lower bounds of S(t) on ``times``, counts and the median."""

    label: str
    n: int
    n_patients: int
    share_right: float
    share_left: float
    times: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    median: float


def _censoring_shares(rows: pd.DataFrame) -> tuple[float, float]:
    n = max(len(rows), 1)
    return float((rows["censoring"] == "right").sum() / n), float((rows["censoring"] == "left").sum() / n)


def survival_by(table: pd.DataFrame, column: str, min_rows: int = 5, horizon: float = 300.0) -> list[CurveGroup]:
    """Turnbull curves of time to wear-off for each level of ``column`` with at least ``min_rows`` treatments."""
    out = []
    times = np.linspace(0.0, horizon, 301)
    for level, rows in table.groupby(column, sort=True):
        if len(rows) < min_rows or np.isinf(rows["upper"]).all():
            continue
        fit = TurnbullNPMLE().fit(rows["lower"].to_numpy(), rows["upper"].to_numpy())
        curve = fit.predict(times)
        right, left = _censoring_shares(rows)
        out.append(
            CurveGroup(
                str(level), len(rows), rows["patient_id"].nunique(), right, left, times,
                curve.iloc[:, 0].to_numpy(), curve.iloc[:, 1].to_numpy(), fit.median_survival_time_,
            )
        )  # fmt: skip
    return sorted(out, key=lambda g: -g.n)


@dataclass
class Effect:
    """A covariate's time ratio with its 95 % interval, how many rows inform it, and the flags."""

    name: str
    label: str
    ratio: float
    lower: float
    upper: float
    p: float
    n_rows: int
    weak_evidence: bool
    imprecise: bool


@dataclass
class FittedEffects:
    """The AFT fit of the report: the fitted model, its effects and a description of the model."""

    model: IntervalAFT
    effects: list[Effect]
    reference: str
    n_rows: int
    n_patients: int


def fit_effects(table: pd.DataFrame) -> FittedEffects:
    """Log-normal AFT with a patient random intercept on the design of :func:`aft_design`."""
    design = aft_design(table)
    model = IntervalAFT(FAMILY).fit(design.frame, "lower", "upper", design.covariates, group_col="patient_id")
    summary = model.summary
    lo, hi = summary.columns[3], summary.columns[4]
    effects = []
    for name in design.covariates:
        row = summary.loc[name]
        column = design.frame[name]
        n_rows = int((column != 0).sum()) if set(column.unique()) <= {0.0, 1.0} else len(column)
        lower, upper = math.exp(row[lo]), math.exp(row[hi])
        undecided = lower < 1.0 / RELEVANT_RATIO and upper > RELEVANT_RATIO
        effects.append(
            Effect(
                name, design.labels[name], float(row["exp(coef)"]), lower, upper, float(row["p"]), n_rows,
                weak_evidence=name in WEAK_COVARIATES, imprecise=undecided or n_rows < MIN_ROWS,
            )
        )  # fmt: skip
    reference = (
        f"a woman of moderate activity, first treatment of the {design.reference_area} with "
        f"{design.reference_product} at the area's reference dose"
    )
    return FittedEffects(model, effects, reference, len(design.frame), design.frame["patient_id"].nunique())


@dataclass
class ModelComparison:
    """The clinic's median wear-off day for one area and product against the model's prediction of it
    (``predicted_*``: median and 90 % range of :func:`~wearoff.analytics.predictive.predicted_medians`), with the
    model's forecast for a patient of the clinic's typical dose (``model_*``)."""

    area: str
    product: str
    n: int
    n_patients: int
    n_events: int
    share_right: float
    units: float
    sex: str
    clinic_median: float
    clinic_lower: float
    clinic_upper: float
    predicted_median: float
    predicted_lower90: float
    predicted_upper90: float
    model_median: float
    model_lower90: float
    model_upper90: float
    verdict: str


def _median(rows: pd.DataFrame) -> float:
    return turnbull(rows["lower"].to_numpy(), rows["upper"].to_numpy()).percentile(0.5)


def _bootstrap_median(rows: pd.DataFrame, rng: np.random.Generator, n_boot: int) -> tuple[float, float]:
    """Percentile interval of the Turnbull median over patient resamples (a resample is a weight per row: how
    often its patient was drawn). A median not reached in a resample counts as infinite."""
    codes, patients = pd.factorize(rows["patient_id"])
    lower, upper = rows["lower"].to_numpy(), rows["upper"].to_numpy()
    medians = np.empty(n_boot)
    for b in range(n_boot):
        drawn = np.bincount(rng.integers(0, len(patients), len(patients)), minlength=len(patients))
        weights = drawn[codes].astype(float)
        keep = weights > 0
        medians[b] = turnbull(lower[keep], upper[keep], weights=weights[keep]).percentile(0.5)
    ordered = np.sort(medians)
    return float(ordered[int(0.025 * (n_boot - 1))]), float(ordered[int(np.ceil(0.975 * (n_boot - 1)))])


def compare_with_model(
    table: pd.DataFrame,
    followup_days: Mapping[str, Sequence[float]],
    rng: np.random.Generator | int = 0,
    n_boot: int = 100,
    n_draws: int = PREDICTIVE_DRAWS,
) -> tuple[list[ModelComparison], list[tuple[str, str, int, int]]]:
    """Comparisons for every area and product with enough data, and ``(area, product, n, returns)`` of the rest.

    The verdict is the predictive check's: "shorter" ("longer") when the clinic's median lies below the 5th
    (above the 95th) percentile of the model's ``n_draws`` predicted medians. The model's forecast beside it is
    for the clinic's typical treatment: the median units and the commoner sex of the group (moderate activity, a
    first treatment), as :func:`wearoff.model.forecast.forecast` gives it to any caller.
    """
    rng = np.random.default_rng(rng)
    params, catalog = load_parameters(), load_catalog()
    done, too_few = [], []
    for (area, product), rows in table.groupby(["area", "product"], sort=True):
        n_events = int(np.isfinite(rows["upper"]).sum())
        if len(rows) < MIN_ROWS or n_events < MIN_EVENTS:
            too_few.append((str(area), str(product), len(rows), n_events))
            continue
        units = float(rows["units"].median())
        sex = str(rows["sex"].value_counts().idxmax())
        wear_off = forecast(Treatment(str(product), str(area), units, sex=sex)).wear_off_day  # type: ignore[arg-type]
        median = _median(rows)
        lower, upper = _bootstrap_median(rows, rng, n_boot)
        predicted = predicted_medians(rows, followup_days, params, catalog, rng, n_draws)
        low, mid, high = np.quantile(predicted, [0.05, 0.5, 0.95], method="inverted_cdf")
        verdict = "shorter" if median < low else "longer" if median > high else "consistent"
        right, _ = _censoring_shares(rows)
        done.append(
            ModelComparison(
                str(area), str(product), len(rows), rows["patient_id"].nunique(), n_events, right, units, sex,
                median, lower, upper, float(mid), float(low), float(high),
                wear_off.median, wear_off.lower90, wear_off.upper90, verdict,
            )
        )  # fmt: skip
    return done, too_few


def clinic_time_ratio(histories: Sequence[PatientHistory]) -> ClinicTimeRatio | None:
    """The duration model's level refitted to every follow-up score of the clinic (each patient's treatments of
    all areas); None when the clinic recorded no score after a treatment."""
    episodes = [patient_episodes(h) for h in histories]
    try:
        return fit_clinic_time_ratio(load_parameters(), episodes, load_catalog())
    except NoScoresError:
        return None
