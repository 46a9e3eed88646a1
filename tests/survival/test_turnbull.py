"""Turnbull NPMLE: known special cases, optimality certificate, conventions, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from wearoff.survival import TurnbullNPMLE, turnbull
from wearoff.survival.turnbull import _innermost, _loglik, _squarem_em, _unique_pairs

from .conftest import censor_by_visits


def _interval_data(n: int, seed: int, whole_days: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = 90.0 * rng.weibull(2.0, n)
    lo, hi = censor_by_visits(t, rng, exact_share=0.0)
    if whole_days:
        lo, hi = np.round(lo), np.where(np.isfinite(hi), np.round(hi), hi)
        hi = np.maximum(hi, lo)
        hi[(hi == lo) & (lo == 0)] = 1.0
    return lo, hi


def _kaplan_meier(times: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Product-limit estimate at the distinct event times (censoring at t counts as still at risk at t)."""
    event_times = np.unique(times[event])
    surv, s = [], 1.0
    for t in event_times:
        at_risk = np.sum(times >= t)
        deaths = np.sum((times == t) & event)
        s *= 1.0 - deaths / at_risk
        surv.append(s)
    return event_times, np.array(surv)


def test_equals_kaplan_meier_for_exact_and_right_censored_data() -> None:
    rng = np.random.default_rng(1)
    t = np.round(rng.exponential(50.0, 300), 1)
    c = np.round(rng.uniform(10.0, 120.0, 300), 1)
    event = t <= c
    obs = np.where(event, t, c)
    lower = obs
    upper = np.where(event, obs, np.inf)
    fitter = TurnbullNPMLE().fit(lower, upper)
    km_t, km_s = _kaplan_meier(obs, event)
    got = fitter.predict(km_t)
    np.testing.assert_allclose(got.iloc[:, 0], km_s, atol=1e-7)
    np.testing.assert_allclose(got.iloc[:, 1], km_s, atol=1e-7)


@pytest.mark.parametrize("whole_days", [False, True])
def test_the_estimate_is_certified_optimal(whole_days: bool) -> None:
    lo, hi = _interval_data(2000, seed=2, whole_days=whole_days)
    res = turnbull(lo, hi)
    assert res.converged and res.gap <= 1e-10 * lo.size
    assert res.probability.min() >= 0.0 and res.probability.sum() == pytest.approx(1.0, abs=1e-12)
    # the KKT conditions behind the certificate: multipliers d_j <= N everywhere, = N on the support
    ulo, uhi, uw = _unique_pairs(lo, hi, np.ones(lo.size))
    _, _, _, a, b = _innermost(ulo, uhi, "right")
    ll, d = _loglik(res.probability, a, b + 1, uw)
    assert ll == pytest.approx(res.log_likelihood, rel=1e-14)
    c = uw / d
    mult = np.cumsum(np.bincount(a, c, minlength=b.max() + 2) - np.bincount(b + 1, c, minlength=b.max() + 2))[:-1]
    assert mult.max() <= lo.size * (1 + 1e-9)
    np.testing.assert_allclose(mult[res.probability > 1e-8], lo.size, rtol=1e-6)


def test_accelerated_em_reaches_the_same_estimate() -> None:
    lo, hi = _interval_data(400, seed=3)
    res = turnbull(lo, hi)
    ulo, uhi, uw = _unique_pairs(lo, hi, np.ones(lo.size))
    _, _, _, a, b = _innermost(ulo, uhi, "right")
    m = res.probability.size
    p_em, _, gap = _squarem_em(np.full(m, 1.0 / m), a, b + 1, uw, tol=1e-9, max_iter=200_000)
    assert gap < 1e-6
    np.testing.assert_allclose(np.cumsum(p_em), np.cumsum(res.probability), atol=1e-5)
    assert _loglik(p_em, a, b + 1, uw)[0] <= res.log_likelihood + 1e-9


def test_conventions_agree_unless_endpoints_touch() -> None:
    lo, hi = _interval_data(500, seed=4)  # continuous times: no left end equals a right end
    right = TurnbullNPMLE(closed="right").fit(lo, hi)
    both = TurnbullNPMLE(closed="both").fit(lo, hi)
    assert right.log_likelihood_ == pytest.approx(both.log_likelihood_, rel=1e-12)
    np.testing.assert_allclose(right.intervals_["probability"], both.intervals_["probability"], atol=1e-7)
    # touching endpoints: (0, 10] and (10, 20] are disjoint events, [0, 10] and [10, 20] share the point 10
    lo2, hi2 = np.array([0.0, 10.0]), np.array([10.0, 20.0])
    assert len(TurnbullNPMLE(closed="right").fit(lo2, hi2).intervals_) == 2
    shared = TurnbullNPMLE(closed="both").fit(lo2, hi2).intervals_
    assert len(shared) == 1 and shared["left"].iloc[0] == shared["right"].iloc[0] == 10.0


def test_weights_equal_duplicated_rows() -> None:
    lo, hi = _interval_data(300, seed=5, whole_days=True)
    w = np.random.default_rng(6).integers(1, 4, lo.size)
    weighted = TurnbullNPMLE().fit(lo, hi, weights=w)
    duplicated = TurnbullNPMLE().fit(np.repeat(lo, w), np.repeat(hi, w))
    np.testing.assert_allclose(
        weighted.survival_function_, duplicated.survival_function_.loc[weighted.timeline_], atol=1e-7
    )
    assert weighted.log_likelihood_ == pytest.approx(duplicated.log_likelihood_, rel=1e-9)


def test_curve_outputs() -> None:
    lo, hi = _interval_data(800, seed=7)
    fitter = TurnbullNPMLE().fit(lo, hi)
    sf = fitter.survival_function_
    assert list(sf.columns) == ["NPMLE_estimate_upper", "NPMLE_estimate_lower"]
    np.testing.assert_array_equal(sf.index, np.unique(np.concatenate([lo, hi])))
    assert np.all(np.diff(sf.to_numpy(), axis=0) <= 1e-15)
    assert np.all(sf.iloc[:, 1] <= sf.iloc[:, 0] + 1e-15)
    assert sf.iloc[0, 0] == 1.0 and sf.iloc[-1, 0] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(fitter.cumulative_density_, 1.0 - sf)
    med = fitter.median_survival_time_
    upper = fitter.predict([med]).iloc[0, 0]
    earlier = sf.index[sf.index < med]
    assert upper <= 0.5 < fitter.predict([earlier[-1]]).iloc[0, 0]
    # between observed times the curve is only bounded: the two columns bracket it inside a Turnbull interval
    inside = fitter.intervals_.query("right - left > 1e-6").iloc[0]
    mid = fitter.predict([(inside["left"] + inside["right"]) / 2])
    assert mid.iloc[0, 0] - mid.iloc[0, 1] == pytest.approx(inside["probability"], abs=1e-12)


@pytest.mark.parametrize(
    ("lower", "upper", "message"),
    [
        ([1.0, 2.0], [3.0], "differ in length"),
        ([1.0, np.nan], [3.0, 4.0], "NaN"),
        ([-1.0, 2.0], [3.0, 4.0], ">= 0"),
        ([5.0, 2.0], [3.0, 4.0], "lower > upper"),
        (["a", "b"], [3.0, 4.0], "numeric"),
        ([0.0, 1.0], [0.0, 2.0], "must be > 0"),
    ],
)
def test_bad_bounds_are_refused(lower: list, upper: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TurnbullNPMLE().fit(lower, upper)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="closed"):
        turnbull([1.0], [2.0], closed="left")
    with pytest.raises(ValueError, match="weights"):
        turnbull([1.0, 2.0], [2.0, 3.0], weights=[1.0, -1.0])
    with pytest.raises(RuntimeError, match="not fitted"):
        TurnbullNPMLE().predict([1.0])
