"""The predictive check of a clinic's median: its interval reading, its calibration and its power."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from wearoff.analytics import treatment_durations
from wearoff.analytics.durations import observed_intervals
from wearoff.analytics.summary import compare_with_model
from wearoff.model.parameters import load_parameters
from wearoff.simulation.clinic import histories, simulate_clinic


def _read_one(days: list[float], scores: list[int], baseline: int) -> tuple[float, float]:
    """The interval rule stated plainly, visit by visit: the oracle of the vectorised reading."""
    lower = 0.0
    for day, score in zip(days, scores, strict=True):
        if score >= baseline:
            return lower, float(day)
        lower = float(day)
    return lower, float("inf")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 3),
            st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=5),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_vectorised_intervals_read_scores_by_the_rule(cases: list[tuple[int, list[tuple[int, ...]]]]) -> None:
    """Treatments of several untreated grades and scoring visits, each scored in three draws."""
    width = max(len(visits) for _, visits in cases)
    draws = 3
    days = np.full((len(cases), width), np.nan)
    severities = np.zeros((len(cases), width, draws), dtype=np.int64)
    for i, (_, visits) in enumerate(cases):
        days[i, : len(visits)] = 14.0 + 30.0 * np.arange(len(visits))
        severities[i, : len(visits)] = visits
    baseline = np.array([b for b, _ in cases], float)
    lower, upper = observed_intervals(days, severities, baseline)
    for i, (b, visits) in enumerate(cases):
        for r in range(draws):
            scores = [v[r] for v in visits]
            assert (lower[i, r], upper[i, r]) == _read_one(list(days[i, : len(visits)]), scores, b)


def _clinic_booked_on_a_schedule(params) -> tuple[pd.DataFrame, dict]:
    """A clinic simulated from ``params`` whose patients are all re-booked on days 100-240, whatever their
    wear-off: its scoring days carry no information about the wear-off (the check's premise). The simulator
    draws its own patients and scores, independently of the check's code."""
    clinic = simulate_clinic(300, 2.0, seed=11, params=params, fixed_schedule_share=1.0, fixed_schedule_days=(100, 240))
    durations = treatment_durations(histories(clinic))
    return durations.table, durations.followup_days


def test_a_clinic_simulated_from_the_model_is_consistent_with_it() -> None:
    table, followup = _clinic_booked_on_a_schedule(load_parameters())
    done, _ = compare_with_model(table, followup, rng=1, n_boot=10, n_draws=60)
    verdicts = [c.verdict for c in done]
    assert len(verdicts) >= 10
    assert verdicts.count("consistent") >= len(verdicts) - 1, verdicts


def test_a_clinic_whose_treatments_last_half_as_long_is_called_shorter() -> None:
    params = load_parameters()
    shorter = params.with_values({"log_tau_ref": params["log_tau_ref"] + np.log(0.5)})
    table, followup = _clinic_booked_on_a_schedule(shorter)
    done, _ = compare_with_model(table, followup, rng=1, n_boot=10, n_draws=60)
    assert "longer" not in [c.verdict for c in done]
    glabellar = [c.verdict for c in done if c.area == "glabellar"]  # the longest-lasting area: the most power
    assert len(glabellar) >= 4
    assert set(glabellar) == {"shorter"}, glabellar
