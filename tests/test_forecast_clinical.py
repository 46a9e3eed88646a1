"""Clinical sanity of the shipped model: what a clinician knows from the labels and the evidence README."""

from __future__ import annotations

import pytest

from wearoff.catalog import load_catalog
from wearoff.model.forecast import forecast
from wearoff.model.treatment import Treatment, TreatmentError

MONTH = 30.44


@pytest.fixture(scope="module")
def ona20(params):
    return forecast(Treatment("onabotulinumtoxinA", "glabellar", 20, sex="female"), params)


def test_ona_20_glabellar_woman_wears_off_in_3_to_5_months(ona20) -> None:
    assert 3 * MONTH <= ona20.wear_off_day.median <= 5 * MONTH


def test_onset_within_1_to_5_days_and_peak_within_2_to_4_weeks(ona20) -> None:
    assert 1.0 <= ona20.onset_day.median <= 5.0
    assert 14.0 <= ona20.peak_day.median <= 28.0


def test_abo_50_is_comparable_to_ona_20(params, ona20) -> None:
    abo = forecast(Treatment("abobotulinumtoxinA", "glabellar", 50, sex="female"), params)
    assert abo.wear_off_day.median == pytest.approx(ona20.wear_off_day.median, rel=0.2)
    assert abo.none_mild_at_peak == pytest.approx(ona20.none_mild_at_peak, abs=0.1)


def test_daxi_40_lasts_longer_than_ona_20(params, ona20) -> None:
    daxi = forecast(Treatment("daxibotulinumtoxinA", "glabellar", 40, sex="female"), params)
    assert daxi.wear_off_day.median > ona20.wear_off_day.median * 1.05


def test_a_masseter_needs_far_more_units_than_a_glabella(params, ona20) -> None:
    catalog = load_catalog()
    masseter = catalog.area("masseter")
    both_sides = masseter.reference_units.value * (2 if masseter.units_are == "per_side" else 1)
    assert both_sides >= 2.5 * catalog.area("glabellar").reference_units.value
    # the glabellar dose given to a masseter is an under-dose: less response, shorter effect
    small = forecast(Treatment("onabotulinumtoxinA", "masseter", 10), params)
    assert small.relative_dose < 0.5
    assert small.wear_off_day.median < ona20.wear_off_day.median


def test_men_need_more_than_women(params, ona20) -> None:
    man = forecast(Treatment("onabotulinumtoxinA", "glabellar", 20, sex="male"), params)
    assert man.relative_dose < ona20.relative_dose
    assert man.wear_off_day.median < ona20.wear_off_day.median
    assert man.none_mild_at_peak < ona20.none_mild_at_peak


def test_antibodies_shorten_and_weaken(params, ona20) -> None:
    nab = forecast(Treatment("onabotulinumtoxinA", "glabellar", 20, antibody_fraction=0.7), params)
    assert nab.wear_off_day.median < ona20.wear_off_day.median
    assert nab.response_share < ona20.response_share


def test_under_dosing_shortens(params, ona20) -> None:
    low = forecast(Treatment("onabotulinumtoxinA", "glabellar", 8), params)
    assert low.wear_off_day.median < 0.85 * ona20.wear_off_day.median


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"product": "botox"}, "unknown product 'botox'"),
        ({"area": "elbow"}, "unknown area 'elbow'"),
        ({"units": -5}, "units must be positive"),
        ({"units": 0}, "units must be positive"),
        ({"units": 5000}, "above the 600 U"),
        ({"units": float("nan")}, "units must be a number"),
        ({"sex": "other"}, "sex must be female or male"),
        ({"activity": "extreme"}, "activity must be low, moderate or high"),
        ({"prior_treatments": -1}, "prior treatments must be a whole number"),
        ({"antibody_fraction": 1.5}, "antibody fraction"),
        ({"baseline_severity": 5}, "baseline severity must be 1, 2 or 3"),
        ({"age": 3}, "age must be between"),
    ],
)
def test_bad_treatments_are_refused_with_a_reason(params, kwargs, message) -> None:
    base = {"product": "onabotulinumtoxinA", "area": "glabellar", "units": 20}
    with pytest.raises(TreatmentError, match=message):
        forecast(Treatment(**{**base, **kwargs}), params)


def test_the_top_level_python_api_is_the_same_path(params) -> None:
    import wearoff

    t = wearoff.Treatment("incobotulinumtoxinA", "lateral_canthal", 24)
    assert wearoff.forecast(t) == forecast(t, params)
    assert wearoff.forecast_many([t, t]) == [forecast(t, params)] * 2
