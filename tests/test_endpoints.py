"""Every severity, onset and duration code of the evidence comes from one latent trajectory, coherently."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from wearoff.model.arms import Arm, arm_cohorts, predict_arms, predict_values
from wearoff.model.endpoints import ENDPOINTS, is_supported

SEVERITY_ONSET_DURATION_CODES = [
    "inv_none_mild",
    "subj_none_mild",
    "inv_ge1",
    "subj_ge1",
    "inv_ge2",
    "composite_ge2",
    "km_not_returned",
    "returned_to_baseline",
    "onset_cum_subject",
    "onset_cum_investigator",
    "median_onset_days",
    "median_return_baseline_days",
    "median_loss_none_mild_days",
    "median_duration_days",
    "mean_time_to_retreatment_days",
    "median_loss_80pct_peak_days",
    "pct_of_max_effect",
]
ONA20 = Arm("onabotulinumtoxinA", "glabellar", 20, 90, 100)


def _value(params, code: str, day: float | None, arm: Arm = ONA20) -> float:
    return float(predict_values(arm_cohorts(params, [arm]), [code], [day])[0])


def test_every_severity_onset_and_duration_code_is_supported() -> None:
    for code in SEVERITY_ONSET_DURATION_CODES:
        assert is_supported(code), code
    for code in ("tsui_pct_improvement", "masseter_thickness_change_mm", "headache_days_change"):
        assert not is_supported(code)


@pytest.mark.parametrize("day", [7.0, 30.0, 90.0, 150.0, 240.0])
def test_responder_codes_are_ordered_and_complementary(params, day: float) -> None:
    v = {code: _value(params, code, day) for code in ENDPOINTS if ENDPOINTS[code].needs_day}
    assert v["km_not_returned"] + v["returned_to_baseline"] == pytest.approx(100.0)
    assert v["inv_ge2"] <= v["inv_ge1"] + 1e-9
    assert v["composite_ge2"] <= v["inv_ge2"] + 1e-9
    for code, value in v.items():
        assert 0.0 <= value <= 100.0 + 1e-9, code


def test_responder_rates_rise_then_fall(params) -> None:
    days = [1.0, 3.0, 14.0, 30.0, 90.0, 150.0, 240.0]
    ge1 = [_value(params, "inv_ge1", d) for d in days]
    assert ge1[0] < ge1[2] and ge1[3] > ge1[5] > ge1[6]
    km = [_value(params, "km_not_returned", d) for d in days]
    assert all(a >= b for a, b in pairwise(km))


def test_duration_codes_are_ordered(params) -> None:
    none_mild = _value(params, "median_loss_none_mild_days", None)
    baseline = _value(params, "median_return_baseline_days", None)
    retreat = _value(params, "mean_time_to_retreatment_days", None)
    assert none_mild < baseline
    assert retreat < baseline  # patients come back before the effect is fully gone
    assert _value(params, "median_onset_days", None) < 7


def test_placebo_shows_only_raters_optimism(params) -> None:
    placebo = Arm("placebo", "glabellar", 0, 90, 100)
    subj = _value(params, "subj_ge1", 30.0, placebo)
    inv = _value(params, "inv_ge1", 30.0, placebo)
    assert 5.0 < subj < 45.0 and 0.0 < inv < subj
    assert _value(params, "km_not_returned", 30.0, placebo) == 0.0


def test_interval_widens_for_small_arms(params) -> None:
    big, small = predict_arms(
        params, [ONA20, Arm("onabotulinumtoxinA", "glabellar", 20, 90, 12)], ["inv_ge1"] * 2, [120.0] * 2
    )
    assert big.predicted == pytest.approx(small.predicted)
    assert (small.upper90 - small.lower90) > (big.upper90 - big.lower90)


def test_batched_equals_one_by_one(params) -> None:
    arms = [ONA20, Arm("abobotulinumtoxinA", "glabellar", 50, None, 80), Arm("incobotulinumtoxinA", "forehead", 15)]
    codes = ["inv_none_mild", "median_return_baseline_days", "composite_ge2"]
    days = [30.0, None, 30.0]
    together = [p.predicted for p in predict_arms(params, arms, codes, days)]
    alone = [predict_arms(params, [a], [c], [d])[0].predicted for a, c, d in zip(arms, codes, days, strict=True)]
    assert np.allclose(together, alone)


def test_intervals_widen_for_areas_and_products_no_evidence_fitted(params) -> None:
    """Mentalis is in no published arm: its area terms are priors, and its interval carries their uncertainty."""
    from wearoff.model.arms import prediction_variance

    seen = Arm("onabotulinumtoxinA", "glabellar", 20, 90, 100)
    unseen = Arm("onabotulinumtoxinA", "mentalis", 6, 90, 100)
    (p_seen, p_unseen) = predict_arms(params, [seen, unseen], ["inv_ge1"] * 2, [120.0] * 2)
    extra = prediction_variance(
        params, [seen, unseen], ["inv_ge1"] * 2, [120.0] * 2, np.array([p_seen.predicted, p_unseen.predicted])
    ).unfitted
    assert extra[0] == 0.0 and extra[1] > 0.0
    assert not params.is_fitted("area_need.mentalis")


@pytest.mark.parametrize("name", ["log_ec50", "log_visibility"])
def test_every_endpoint_is_continuous_in_the_parameters(params, name: str) -> None:
    """Calibration follows the parameters by small steps: no endpoint may jump when a quadrature node's peak
    crosses a threshold (trial durations once counted patients whose peak barely cleared it as responders lasting
    hours, and the optimiser stalled at such a jump)."""
    low_dose = Arm("onabotulinumtoxinA", "glabellar", 10, 100, 20)
    codes = [c for c in SEVERITY_ONSET_DURATION_CODES if c != "pct_of_max_effect"]
    days = [None if not ENDPOINTS[c].needs_day else 120.0 for c in codes]
    steps = params[name] + np.linspace(-0.3, 0.3, 301)
    arms = [low_dose] * len(codes)
    values = np.array([predict_values(arm_cohorts(params.with_values({name: v}), arms), codes, days) for v in steps])
    jumps = np.max(np.abs(np.diff(values, axis=0)), axis=0)
    scale = np.where([ENDPOINTS[c].unit == "percent" for c in codes], 0.5, 0.005 * np.median(values, axis=0))
    assert all(jumps < scale), {c: round(j, 3) for c, j, s in zip(codes, jumps, scale, strict=True) if j >= s}


def test_a_five_point_scale_counts_smaller_steps(params) -> None:
    """On a 5-point scale a grade is 3/4 of a 4-point grade: the same patients score more grades of improvement
    and stay longer above half a grade (the return to baseline), at every day; the onset does not depend on the
    scale; a rater's noise (the same on either scale) crosses the finer scale's half grade more often, so placebo
    arms score more improvements on it."""
    five = Arm("incobotulinumtoxinA", "glabellar", 20, 90, 100, scale_points=5)
    four = Arm("incobotulinumtoxinA", "glabellar", 20, 90, 100)
    for code, day in [("inv_ge2", 3.0), ("inv_ge2", 30.0), ("inv_ge1", 150.0), ("km_not_returned", 170.0)]:
        assert _value(params, code, day, five) > _value(params, code, day, four) + 1.0, (code, day)
    assert _value(params, "median_return_baseline_days", None, five) > _value(
        params, "median_return_baseline_days", None, four
    )
    assert _value(params, "median_onset_days", None, five) == _value(params, "median_onset_days", None, four)
    placebo_five = Arm("placebo", "glabellar", 0, 90, 100, scale_points=5)
    placebo_four = Arm("placebo", "glabellar", 0, 90, 100)
    assert _value(params, "subj_ge1", 30.0, placebo_five) > _value(params, "subj_ge1", 30.0, placebo_four) > 0.0


def test_a_five_point_scale_keeps_the_analytic_responder_share(params) -> None:
    """The analytic share of women whose improvement ever exceeds half a rated grade (population cohorts) equals a
    brute-force integral over a fine grid of sensitivities, on either scale."""
    from wearoff.model import curve
    from wearoff.model.cohort import baseline_mix, grade_size, treatment_terms
    from wearoff.model.treatment import Treatment, covariates_for

    arms = [Arm("onabotulinumtoxinA", "glabellar", 8, 100, 100, scale_points=p) for p in (4, 5)]
    analytic = arm_cohorts(params, arms).responder_share[:, 0]
    terms = treatment_terms(params, covariates_for([Treatment("onabotulinumtoxinA", "glabellar", 8)], params))
    z = np.linspace(-8.0, 8.0, 40001)
    density = np.exp(-0.5 * z**2) / np.sqrt(2.0 * np.pi) * (z[1] - z[0])
    peak = terms.peak(z)[0]
    grades, weights = baseline_mix(params, None)
    visibility = float(np.exp(params["log_visibility"]))
    brute = [
        sum(
            w * np.sum(density * (peak > curve.effect_needed(0.5 * grade_size(arm.scale_points), b, visibility)))
            for b, w in zip(grades, weights, strict=True)
        )
        for arm in arms
    ]
    assert np.allclose(analytic, brute, atol=1e-3)
    assert analytic[1] > analytic[0]


def test_grade_size_of_a_scale() -> None:
    from wearoff.model.cohort import grade_size

    assert grade_size(4) == 1.0 and grade_size(5) == 0.75
    with pytest.raises(ValueError, match="4 or 5 points"):
        grade_size(3)
