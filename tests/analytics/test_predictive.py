"""The predictive check of a clinic's median: its interval reading, its calibration and its power."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wearoff.analytics import treatment_durations, wear_off_interval
from wearoff.analytics.predictive import drawn_intervals, observed_intervals
from wearoff.analytics.summary import compare_with_model
from wearoff.catalog import load_catalog
from wearoff.model.parameters import load_parameters
from wearoff.simulation.clinic import histories, simulate_clinic


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(2, 3), st.lists(st.integers(0, 3), min_size=1, max_size=5)), min_size=1, max_size=8)
)
def test_vectorised_intervals_read_scores_like_the_records(cases: list[tuple[int, list[int]]]) -> None:
    width = max(len(scores) for _, scores in cases)
    days = np.full((len(cases), width), np.nan)
    severities = np.zeros((len(cases), width, 1), dtype=np.int64)
    for i, (_, scores) in enumerate(cases):
        days[i, : len(scores)] = 14.0 + 30.0 * np.arange(len(scores))
        severities[i, : len(scores), 0] = scores
    baseline = np.array([b for b, _ in cases], float)
    lower, upper = observed_intervals(days, severities, baseline)
    for i, (b, scores) in enumerate(cases):
        assert (lower[i, 0], upper[i, 0]) == wear_off_interval(days[i, : len(scores)], scores, b)


@pytest.fixture(scope="module")
def clinic() -> tuple[pd.DataFrame, dict]:
    durations = treatment_durations(histories(simulate_clinic(300, 2.0, seed=11)))
    return durations.table, durations.followup_days


def _as_drawn(table: pd.DataFrame, followup: dict, params, seed: int) -> pd.DataFrame:
    """The table with every group's intervals replaced by one draw of the model observed on the same days."""
    out = table.copy()
    rng = np.random.default_rng(seed)
    for _, rows in table.groupby(["area", "product"]):
        lower, upper = drawn_intervals(rows, followup, params, load_catalog(), rng, n_draws=1)
        out.loc[rows.index, "lower"], out.loc[rows.index, "upper"] = lower[:, 0], upper[:, 0]
    return out


def test_a_clinic_that_is_the_model_observed_on_its_own_days_is_mostly_consistent(clinic) -> None:
    table, followup = clinic
    drawn = _as_drawn(table, followup, load_parameters(), seed=5)
    done, _ = compare_with_model(drawn, followup, rng=1, n_boot=10, n_draws=60)
    verdicts = [c.verdict for c in done]
    assert len(verdicts) >= 6
    assert verdicts.count("consistent") >= len(verdicts) - 2, verdicts


def test_a_clinic_whose_treatments_last_half_as_long_is_called_shorter(clinic) -> None:
    table, followup = clinic
    params = load_parameters()
    shorter = params.with_values({"log_tau_ref": params["log_tau_ref"] + np.log(0.5)})
    drawn = _as_drawn(table, followup, shorter, seed=5)
    done, _ = compare_with_model(drawn, followup, rng=1, n_boot=10, n_draws=60)
    assert "longer" not in [c.verdict for c in done]
    large = [c.verdict for c in done if c.n >= 80]  # smaller groups may lack the power
    assert len(large) >= 8
    assert set(large) == {"shorter"}, large
