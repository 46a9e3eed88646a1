"""Every guard and warning of the planner, explanations and advice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from wearoff.model.personal import Episode, Observation
from wearoff.model.treatment import Treatment
from wearoff.plan.explain import advise, explain
from wearoff.plan.guards import antibody_suspicion, check_treatment
from wearoff.records.values import AssessmentRecord, TreatmentRecord

D0 = date(2025, 3, 3)


def _t(days: int, area: str = "glabellar", units: float = 20, product: str = "onabotulinumtoxinA") -> TreatmentRecord:
    return TreatmentRecord(f"T{days}{area}", D0 + timedelta(days=days), product, area, units)


def _codes(flags) -> set[str]:
    return {f.code for f in flags}


def test_a_label_dose_at_a_regular_interval_raises_nothing() -> None:
    assert check_treatment(_t(120), "female", [_t(0)]) == []


def test_booster_within_three_weeks() -> None:
    flags = check_treatment(_t(14, units=4), "female", [_t(0)])
    assert _codes(flags) == {"booster", "under_dose"}
    booster = next(f for f in flags if f.code == "booster")
    assert "14 days" in booster.message and "antibodies" in booster.message


def test_interval_under_twelve_weeks() -> None:
    (flag,) = check_treatment(_t(60), "female", [_t(0)])
    assert flag.code == "short_interval" and "60 days" in flag.message and flag.level == "warn"


def test_more_than_400_units_in_three_months_is_a_stop() -> None:
    earlier = [_t(-30, "cervical_dystonia", 300)]
    flags = check_treatment(_t(0, "axillary", 60), "female", earlier)
    cap = next(f for f in flags if f.code == "session_cap")
    assert cap.level == "stop" and "420" in cap.message


def test_units_above_the_label_maximum() -> None:
    assert "above_label" in _codes(check_treatment(_t(0, units=40), "female", []))


def test_under_dose_depends_on_sex() -> None:
    assert "under_dose" not in _codes(check_treatment(_t(0, units=20), "female", []))
    flags = check_treatment(_t(0, units=20), "male", [])
    assert "under_dose" in _codes(flags) and "male" in next(f for f in flags if f.code == "under_dose").message


def test_abo_units_are_converted_before_the_guards() -> None:
    assert check_treatment(_t(0, units=50, product="abobotulinumtoxinA"), "female", []) == []


def _scores(pairs: list[tuple[int, int]]) -> list[AssessmentRecord]:
    return [AssessmentRecord(D0 + timedelta(days=d), "glabellar", s, "clinician") for d, s in pairs]


def test_antibody_suspicion_when_durations_shrink() -> None:
    treatments = [_t(0), _t(150), _t(270), _t(360)]
    scores = _scores([(140, 3), (150 + 110, 3), (270 + 80, 3), (360 + 14, 1)])
    flag = antibody_suspicion(treatments, scores, baseline=3)
    assert flag is not None and "140, 110, 80" in flag.message


def test_antibody_suspicion_when_a_treatment_shows_no_response() -> None:
    flag = antibody_suspicion([_t(0), _t(120)], _scores([(14, 0), (120 + 14, 3)]), baseline=3)
    assert flag is not None and "no improvement" in flag.message


def test_no_suspicion_for_stable_durations() -> None:
    treatments = [_t(0), _t(150), _t(300)]
    scores = _scores([(14, 0), (130, 3), (164, 0), (150 + 125, 3), (300 + 128, 3)])
    assert antibody_suspicion(treatments, scores, baseline=3) is None


def test_explanation_gives_each_factor_in_days_with_its_evidence(params) -> None:
    t = Treatment("abobotulinumtoxinA", "glabellar", 40, sex="male", activity="high", prior_treatments=2)
    actual, reference, effects = explain(t, params=params)
    by = {e.factor: e for e in effects}
    assert set(by) == {"units", "product", "sex", "activity", "conditioning"}
    assert by["sex"].days < 0 and by["activity"].days < 0 and by["units"].days < 0
    assert by["activity"].weak and by["conditioning"].weak and not by["sex"].weak
    assert actual < reference


def test_history_is_explained_too(params) -> None:
    t = Treatment("onabotulinumtoxinA", "glabellar", 20, baseline_severity=3)
    short = [Episode(t, (Observation(14, 0), Observation(70, 3)))]
    _, _, effects = explain(t, short, params=params)
    assert next(e for e in effects if e.factor == "history").days < 0


def test_advice_quantifies_alternatives_within_the_label(params) -> None:
    t = Treatment("onabotulinumtoxinA", "glabellar", 10, activity="high")
    advice = {a.factor: a for a in advise(t, params=params)}
    assert advice["units"].days > 0 and "20 U instead of 10 U" in advice["units"].description
    assert advice["product"].days > 0 and advice["activity"].days > 0 and advice["activity"].weak
    at_label = {a.factor for a in advise(Treatment("onabotulinumtoxinA", "glabellar", 20), params=params)}
    assert "units" not in at_label  # no advice beyond the label maximum


@pytest.mark.parametrize("units", [0, -1])
def test_explain_refuses_bad_input(params, units) -> None:
    from wearoff.model.treatment import TreatmentError

    with pytest.raises(TreatmentError):
        explain(Treatment("onabotulinumtoxinA", "glabellar", units), params=params)
