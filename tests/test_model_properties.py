"""Invariants of the model, checked by Hypothesis over the space of treatments."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from wearoff.catalog import load_catalog
from wearoff.model import curve
from wearoff.model.forecast import forecast
from wearoff.model.parameters import load_parameters
from wearoff.model.treatment import Treatment

CATALOG = load_catalog()
TOXINS = sorted(code for code, p in CATALOG.products.items() if p.is_toxin)
AREAS = sorted(CATALOG.areas)
PARAMS = load_parameters()
FAST = settings(max_examples=25, deadline=None)


def _plateau_units(product: str, area: str) -> float:
    """Units at the model's dose plateau for a woman (relative dose r_plateau)."""
    ona = CATALOG.area(area).reference_units.value * float(np.exp(PARAMS["log_r_plateau"]))
    return ona / CATALOG.product(product).ona_units_per_unit.value


treatments = st.builds(
    Treatment,
    product=st.sampled_from(TOXINS),
    area=st.sampled_from(AREAS),
    units=st.floats(1.0, 60.0),
    sex=st.sampled_from(["female", "male"]),
    activity=st.sampled_from(["low", "moderate", "high"]),
    prior_treatments=st.integers(0, 6),
)


@FAST
@given(t=treatments, factor=st.floats(1.05, 3.0))
def test_more_units_never_shorter_below_the_plateau(t: Treatment, factor: float) -> None:
    more_units = min(t.units * factor, _plateau_units(t.product, t.area))
    if more_units <= t.units:
        return
    base = forecast(t, PARAMS)
    more = forecast(replace(t, units=more_units), PARAMS)
    assert more.wear_off_day.median >= base.wear_off_day.median - 1e-6
    assert more.response_share >= base.response_share - 1e-9


@FAST
@given(t=treatments)
def test_more_activity_never_longer(t: Treatment) -> None:
    days = [forecast(replace(t, activity=a), PARAMS).wear_off_day.median for a in ("low", "moderate", "high")]
    assert days[0] >= days[1] >= days[2]


@FAST
@given(t=treatments)
def test_every_interval_contains_its_median_and_curves_are_bounded(t: Treatment) -> None:
    f = forecast(t, PARAMS)
    intervals = (f.onset_day, f.peak_day, f.wear_off_day, f.none_mild_until_day, f.none_mild_back_at_baseline_day)
    for iv in intervals:
        assert iv is None or iv.lower90 <= iv.median <= iv.upper90
    assert (f.onset_day is None) == (f.response_share == 0.0)
    band = np.array([f.curve.lower90, f.curve.median, f.curve.upper90])
    assert np.all((band >= 0.0) & (band <= 1.0))
    assert np.all(band[0] <= band[1] + 1e-12) and np.all(band[1] <= band[2] + 1e-12)
    assert 0.0 <= f.response_share <= 1.0 and 0.0 <= f.none_mild_at_peak <= 1.0


@FAST
@given(t=treatments, grade=st.sampled_from([1, 2, 3]), severe=st.floats(0.02, 0.98))
def test_the_effect_band_does_not_depend_on_the_untreated_grade(t: Treatment, grade: int, severe: float) -> None:
    """The effect (share of the pull removed) is the same whatever the grade: the band of the trial mix of grades
    (any share of severe) is the band of any one grade."""
    params = PARAMS.with_values({"p_severe": severe})
    mixed = forecast(replace(t, baseline_severity=None), params).curve
    known = forecast(replace(t, baseline_severity=grade), params).curve
    for name in ("lower90", "median", "upper90"):
        np.testing.assert_allclose(getattr(mixed, name), getattr(known, name), atol=1e-9)


@FAST
@given(
    peak=st.floats(0.0, 1.0),
    tau=st.floats(20.0, 400.0),
    onset=st.floats(0.3, 10.0),
    t=st.lists(st.floats(0.0, 1000.0), min_size=1, max_size=20),
)
def test_effect_curve_bounded_and_wears_off(peak: float, tau: float, onset: float, t: list[float]) -> None:
    e = curve.effect(np.array(t), peak=peak, onset_day=onset, tau=tau, gamma=2.0, shape=1.2)
    assert np.all((e >= 0.0) & (e <= peak + 1e-12))
    late = curve.effect(np.array([tau * 10]), peak=peak, onset_day=onset, tau=tau, gamma=2.0, shape=1.2)
    assert late[0] < 1e-6


@FAST
@given(t=treatments)
def test_forecasts_are_deterministic(t: Treatment) -> None:
    assert forecast(t, PARAMS) == forecast(t, PARAMS)


@FAST
@given(grades=st.floats(0.01, 1.99), baseline=st.sampled_from([2.0, 3.0]), rho=st.floats(1.0, 4.0))
def test_effect_needed_inverts_improvement(grades: float, baseline: float, rho: float) -> None:
    e = curve.effect_needed(grades, np.array(baseline), rho)
    assert np.isclose(curve.improvement(e, np.array(baseline), rho), grades, rtol=1e-9, atol=1e-9)
