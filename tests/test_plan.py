"""Clinic records to forecasts: histories as of a date, re-booking windows, and the simulated clinic."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from wearoff.model.forecast import forecast
from wearoff.model.treatment import Treatment
from wearoff.plan.history import baseline_severity, courses_as_of
from wearoff.plan.records_forecast import CSV_COLUMNS, forecast_records
from wearoff.plan.window import MIN_WINDOW_DAYS, rebook_window
from wearoff.records.values import AreaHistory, AssessmentRecord, PatientHistory, PatientInfo, TreatmentRecord
from wearoff.simulation.clinic import histories, simulate_clinic

ANNA = PatientInfo("P1", "female", 1980, "high")
D0 = date(2024, 1, 10)


def _t(i: int, day: date, area: str = "glabellar", units: float = 20) -> TreatmentRecord:
    return TreatmentRecord(f"T{i}", day, "onabotulinumtoxinA", area, units)


def _a(day: date, severity: int, area: str = "glabellar", rater: str = "clinician") -> AssessmentRecord:
    return AssessmentRecord(day, area, severity, rater)


def _history(treatments: list[TreatmentRecord], scores: list[AssessmentRecord]) -> PatientHistory:
    areas = {
        a: AreaHistory(a, [t for t in treatments if t.area == a], [s for s in scores if s.area == a])
        for a in {t.area for t in treatments} | {s.area for s in scores}
    }
    return PatientHistory(ANNA, areas)


def test_history_uses_only_what_was_recorded_by_the_as_of_date() -> None:
    treatments = [_t(1, D0), _t(2, D0 + timedelta(days=120)), _t(3, D0 + timedelta(days=240))]
    scores = [
        _a(D0, 3),
        _a(D0 + timedelta(days=14), 0),
        _a(D0 + timedelta(days=100), 3),
        _a(D0 + timedelta(days=134), 1),
        _a(D0 + timedelta(days=250), 0),
    ]
    (course,) = courses_as_of(_history(treatments, scores), D0 + timedelta(days=130))
    assert course.latest.treatment_id == "T2" and course.earlier_treatments == 1
    assert [len(e.observations) for e in course.history] == [2, 0]  # the day-134 score is after the as-of date
    assert course.treatment.baseline_severity == 3 and course.treatment.prior_treatments == 1
    assert course.treatment.activity == "high"
    (later,) = courses_as_of(_history(treatments, scores), D0 + timedelta(days=300))
    assert later.latest.treatment_id == "T3" and later.treatment.prior_treatments == 2
    assert [o.day for o in later.history[1].observations] == [14.0]


def test_baseline_is_the_highest_pre_treatment_score() -> None:
    first = [_t(1, D0)]
    assert baseline_severity([_a(D0 - timedelta(days=3), 2), _a(D0 + timedelta(days=90), 3)], first) == 2
    again = [_t(1, D0), _t(2, D0 + timedelta(days=120))]
    scores = [_a(D0, 2), _a(D0 + timedelta(days=120), 3), _a(D0 + timedelta(days=120), 1, rater="patient")]
    assert baseline_severity(scores, again) == 3
    assert baseline_severity([_a(D0 + timedelta(days=90), 3)], first) == 3
    assert baseline_severity([_a(D0, 0)], first) is None
    assert baseline_severity([], first) is None


def test_window_is_centred_on_the_forecast_and_respects_the_label_interval(params) -> None:
    f = forecast(Treatment("onabotulinumtoxinA", "glabellar", 20), params)
    w = rebook_window(D0, f)
    q25, q75 = f.wear_off_quartiles
    assert (w.opens - D0).days == max(90, int(q25)) and (w.closes - D0).days >= q75
    assert (w.opens - D0).days >= 90
    assert (w.opens - D0).days <= f.wear_off_day.median <= (w.closes - D0).days
    assert (w.closes - w.opens).days >= MIN_WINDOW_DAYS
    short = forecast(Treatment("onabotulinumtoxinA", "glabellar", 5), params)
    held = rebook_window(D0, short)
    assert held.held_by_label_interval and (held.opens - D0).days == 90


@pytest.fixture(scope="module")
def clinic():
    return simulate_clinic(60, 2, seed=11)


def test_simulation_is_reproducible_and_in_the_csv_contract(clinic) -> None:
    again = simulate_clinic(60, 2, seed=11)
    assert again.treatments == clinic.treatments and again.assessments == clinic.assessments
    assert set(clinic.patients[0]) == {"patient_id", "sex", "birth_year", "activity"}
    assert set(clinic.treatments[0]) >= {"treatment_id", "patient_id", "date", "product", "area", "units"}
    assert set(clinic.assessments[0]) == {"patient_id", "area", "date", "severity", "rater"}
    assert all(0 <= a["severity"] <= 3 for a in clinic.assessments)
    assert len(clinic.truth) == len(clinic.treatments)
    assert simulate_clinic(60, 2, seed=12).treatments != clinic.treatments


def test_records_forecast_covers_every_patient_and_area(clinic) -> None:
    records = histories(clinic)
    as_of = date(2024, 6, 1)
    out = forecast_records(records, as_of)
    expected = {(t["patient_id"], t["area"]) for t in clinic.treatments if date.fromisoformat(t["date"]) <= as_of}
    assert {(r.patient_id, r.area) for r in out} == expected
    for r in out:
        assert r.treatment_date <= as_of
        row = r.csv_row()
        assert tuple(row) == CSV_COLUMNS
        assert (
            float(row["wear_off_day_lower90"])
            <= float(row["wear_off_day_median"])
            <= float(row["wear_off_day_upper90"])
        )
        assert row["rebook_from"] <= row["rebook_to"]
    population = forecast_records(records, as_of, population_only=True)
    personal_days = np.array([r.forecast.wear_off_day.median for r in out])
    population_days = np.array([r.forecast.wear_off_day.median for r in population])
    assert not np.allclose(personal_days, population_days)
