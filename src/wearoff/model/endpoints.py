"""The endpoint codes of the published evidence, each computed from the one latent trajectory.

Every code of ``shared/evidence/README.md`` that is about wrinkle severity, onset or duration has an entry here;
other codes (anatomical and therapeutic measures) are not supported and predict nothing. Percent codes give
the percent of a group's patients; ``*_days`` codes give days after injection. Each ``compute`` takes a batch
of cohorts and one day per cohort (ignored by day-free codes) and returns one value per cohort.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from wearoff.model.cohort import Cohorts

PEAK_SEARCH_DAYS = np.arange(1.0, 61.0)
"""Days searched for the peak of the mean effect (it peaks within 2-4 weeks)."""

Compute = Callable[[Cohorts, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Endpoint:
    """An endpoint code: its unit, whether it is measured on a day, and how the model computes it."""

    code: str
    unit: Literal["percent", "days"]
    needs_day: bool
    meaning: str
    compute: Compute
    whole_days: bool = False
    """Reported in whole days after injection (diaries and visits are daily): ``compute`` gives the continuous day,
    the trial reports the day within which it falls (:func:`reported_day`)."""
    rated: bool = False
    """A share of patients graded on a severity scale by a rater: a trial whose raters grade more leniently
    raises it (its logit moves with the trial's own rating shift, ``wearoff.model.arms.study_loadings``)."""


def _per_row(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, float)[:, None]


def _rated(rater: str, grades: float, none_or_mild: bool = False) -> Compute:
    return lambda c, days: 100.0 * c.rated_share(_per_row(days), rater, grades, none_or_mild=none_or_mild)[:, 0]


def _pct_of_max(c: Cohorts, days: np.ndarray) -> np.ndarray:
    peak = c.mean_effect(PEAK_SEARCH_DAYS).max(axis=1)
    now = c.mean_effect(_per_row(days))[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, 100.0 * now / peak, 0.0)


_ENDPOINTS = [
    Endpoint(
        "inv_none_mild",
        "percent",
        True,
        "investigator rates severity 0 or 1",
        _rated("inv", 0, none_or_mild=True),
        rated=True,
    ),
    Endpoint(
        "subj_none_mild",
        "percent",
        True,
        "patient rates severity 0 or 1",
        _rated("subj", 0, none_or_mild=True),
        rated=True,
    ),
    Endpoint("inv_ge1", "percent", True, "investigator rates at least 1 grade better", _rated("inv", 1), rated=True),
    Endpoint("subj_ge1", "percent", True, "patient rates at least 1 grade better", _rated("subj", 1), rated=True),
    Endpoint("inv_ge2", "percent", True, "investigator rates at least 2 grades better", _rated("inv", 2), rated=True),
    Endpoint(
        "composite_ge2",
        "percent",
        True,
        "investigator and patient both rate at least 2 grades better",
        lambda c, days: 100.0 * c.composite_share(_per_row(days), 2.0)[:, 0],
        rated=True,
    ),
    Endpoint(
        "km_not_returned",
        "percent",
        True,
        "responders not yet back at baseline (Kaplan-Meier)",
        lambda c, days: 100.0 * c.survival(_per_row(days))[:, 0],
    ),
    Endpoint(
        "returned_to_baseline",
        "percent",
        True,
        "responders already back at baseline",
        lambda c, days: 100.0 * (1.0 - c.survival(_per_row(days))[:, 0]),
    ),
    Endpoint(
        "onset_cum_subject",
        "percent",
        True,
        "effect begun by the day (patient)",
        lambda c, days: 100.0 * c.onset_cdf(_per_row(days))[:, 0],
    ),
    Endpoint(
        "onset_cum_investigator",
        "percent",
        True,
        "effect begun by the day (investigator)",
        lambda c, days: 100.0 * c.onset_cdf(_per_row(days))[:, 0],
    ),
    Endpoint("pct_of_max_effect", "percent", True, "mean effect as a percent of its maximum", _pct_of_max),
    Endpoint(
        "median_onset_days",
        "days",
        False,
        "median day of onset among responders, counted in whole days after injection: the day within which half of "
        "them have noticed the effect",
        lambda c, days: c.median_onset(),
        whole_days=True,
    ),
    Endpoint(
        "median_return_baseline_days",
        "days",
        False,
        "median day responders are back at baseline",
        lambda c, days: c.quantile([0.5])[:, 0],
    ),
    Endpoint(
        "median_duration_days",
        "days",
        False,
        "median duration of response (read as return to baseline: definition not stated)",
        lambda c, days: c.quantile([0.5])[:, 0],
    ),
    Endpoint(
        "median_loss_none_mild_days",
        "days",
        False,
        "median day a none/mild responder is no longer none/mild",
        lambda c, days: c.quantile([0.5], "none_mild")[:, 0],
    ),
    Endpoint(
        "mean_time_to_retreatment_days",
        "days",
        False,
        "mean day patients come back: read as the day the effect has lost half its peak (benefit clearly "
        "waning), not full wear-off",
        lambda c, days: c.mean_loss_of_peak(0.5),
    ),
    Endpoint(
        "median_loss_80pct_peak_days",
        "days",
        False,
        "median day the effect has lost 80 % of its peak",
        lambda c, days: c.median_loss_of_peak(0.8),
    ),
]

ENDPOINTS: dict[str, Endpoint] = {e.code: e for e in _ENDPOINTS}


def reported_day(continuous_day: float) -> float:
    """The whole day a daily diary or visit schedule reports for an event at ``continuous_day`` days after the
    injection: day *d* covers (d - 1, d], so an onset 30 hours after the injection is reported on day 2 (the
    JOSEPH2021 arms: a third of patients by day 1, median reported day 2)."""
    # a tolerance of 1e-9 days (under a tenth of a millisecond) keeps a day computed as 2.0000000001 from being
    # reported as day 3
    return float(max(np.ceil(continuous_day - 1e-9), 1.0)) if np.isfinite(continuous_day) else continuous_day


def is_supported(code: str) -> bool:
    """Whether the model computes this endpoint code."""
    return code in ENDPOINTS
