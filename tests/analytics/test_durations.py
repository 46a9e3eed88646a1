"""Wear-off intervals from small hand-made histories."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from wearoff.analytics import treatment_durations, wear_off_interval
from wearoff.records.values import AreaHistory, AssessmentRecord, PatientHistory, PatientInfo, TreatmentRecord

D0 = dt.date(2024, 1, 10)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def history(area: str, treatments: list[tuple[int, str, float]], scores: list[tuple[int, int, str]],
            sex: str = "female") -> PatientHistory:  # fmt: skip
    ts = [TreatmentRecord(f"T{i}", day(d), product, area, units, injector="dr-a") for i, (d, product, units) in
          enumerate(treatments)]  # fmt: skip
    ss = [AssessmentRecord(day(d), area, sev, rater) for d, sev, rater in scores]
    return PatientHistory(PatientInfo("P1", sex, 1980, "moderate"), {area: AreaHistory(area, ts, ss)})


def test_interval_rules() -> None:
    assert wear_off_interval([14, 60, 95, 120], [0, 1, 3, 2], baseline=3) == (60.0, 95.0)
    assert wear_off_interval([14, 60], [0, 1], baseline=2) == (60.0, math.inf)
    assert wear_off_interval([20], [3], baseline=3) == (0.0, 20.0)  # back at the first visit: left-censored
    with pytest.raises(ValueError):
        wear_off_interval([], [], baseline=2)


def test_interval_right_censored_and_excluded_rows() -> None:
    h = history(
        "glabellar",
        [
            (0, "onabotulinumtoxinA", 20),
            (100, "abobotulinumtoxinA", 50),
            (200, "onabotulinumtoxinA", 20),
            (300, "onabotulinumtoxinA", 20),
        ],
        [
            (0, 3, "clinician"),  # pre-treatment: baseline 3
            (14, 0, "clinician"),
            (70, 1, "clinician"),
            (90, 3, "clinician"),  # T0: (70, 90]
            (114, 0, "clinician"),
            (150, 1, "patient"),
            (200, 2, "clinician"),  # T1: effect up to re-treatment day
            (230, 0, "patient"),  # T2: patient score only
            # T3: no follow-up at all
        ],
    )
    d = treatment_durations([h])
    t = d.table.set_index("treatment_id")
    assert (t.loc["T0", "lower"], t.loc["T0", "upper"], t.loc["T0", "censoring"]) == (70.0, 90.0, "interval")
    # the score on the day of the next treatment (day 200 = 100 days after T1) still shows effect
    assert (t.loc["T1", "lower"], t.loc["T1", "upper"], t.loc["T1", "censoring"]) == (100.0, math.inf, "right")
    assert t.loc["T1", "ona_units"] == pytest.approx(50 / 2.5, rel=0.25)  # abo: about 1/2.5-1/3 ona per unit
    assert t.loc["T1", "prior_treatments"] == 1 and t.loc["T0", "prior_treatments"] == 0
    assert t.loc["T0", "baseline"] == 3 and t.loc["T0", "n_followup"] == 3 and t.loc["T0", "injector"] == "dr-a"
    assert d.excluded == {"no_followup": 1, "patient_only": 1, "no_baseline": 0, "no_toxin": 0}
    assert d.n_treatments == 4 and len(d.table) == 2


def test_right_censoring_at_the_next_treatment_when_asked() -> None:
    h = history("glabellar", [(0, "onabotulinumtoxinA", 20), (120, "onabotulinumtoxinA", 20)],
                [(0, 3, "clinician"), (30, 0, "clinician"), (125, 0, "clinician")])  # fmt: skip
    first = treatment_durations([h]).table.iloc[0]
    assert (first["lower"], first["upper"]) == (30.0, math.inf)
    first = treatment_durations([h], censor_at_retreatment=True).table.iloc[0]
    assert (first["lower"], first["upper"]) == (120.0, math.inf)


def test_per_side_units_and_relative_dose() -> None:
    h = history("masseter", [(0, "onabotulinumtoxinA", 30)], [(0, 3, "clinician"), (60, 1, "clinician")], "male")
    row = treatment_durations([h]).table.iloc[0]
    assert row["per_side"] and row["ona_units"] == 30 and row["ona_units_total"] == 60
    assert row["log_relative_dose"] == pytest.approx(0.0)  # 30 U a side is the masseter's reference
    assert row["sex"] == "male" and row["censoring"] == "right"


def test_area_without_baseline_is_excluded() -> None:
    h = history("forehead", [(0, "onabotulinumtoxinA", 10)], [(0, 0, "clinician"), (30, 0, "clinician")])
    d = treatment_durations([h])
    assert d.table.empty and d.excluded["no_baseline"] == 1


def test_a_placebo_treatment_is_excluded_as_no_toxin() -> None:
    h = history(
        "glabellar",
        [(0, "placebo", 0), (100, "onabotulinumtoxinA", 20)],
        [(0, 3, "clinician"), (30, 3, "clinician"), (130, 1, "clinician")],
    )
    d = treatment_durations([h])
    assert d.excluded["no_toxin"] == 1
    assert list(d.table["product"]) == ["onabotulinumtoxinA"]
    assert d.table["log_relative_dose"].notna().all() and (d.table["log_relative_dose"] > -1e9).all()


def test_a_clinic_of_placebo_treatments_is_told_why_nothing_was_read() -> None:
    h = history("glabellar", [(0, "placebo", 0)], [(0, 3, "clinician"), (30, 3, "clinician")])
    d = treatment_durations([h])
    assert d.table.empty
    message = d.none_readable()
    assert "placebo" in message and ": 1" in message and "record the pre-treatment severity" in message
