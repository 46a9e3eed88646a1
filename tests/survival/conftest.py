"""Simulated interval-censored data for the survival tests (every generator takes an explicit seed)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

TRUE = {"intercept": 4.4, "dose": 0.3, "male": -0.2, "log_scale": float(np.log(0.4))}


def draw_eps(family: str, rng: np.random.Generator, size: int) -> np.ndarray:
    """Standard errors of the AFT families: Gumbel-min (Weibull), logistic, normal."""
    if family == "weibull":
        return np.log(rng.exponential(size=size))
    if family == "loglogistic":
        return rng.logistic(size=size)
    return rng.normal(size=size)


def censor_by_visits(
    t: np.ndarray, rng: np.random.Generator, *, exact_share: float = 0.05, follow_up: float = 250.0
) -> tuple[np.ndarray, np.ndarray]:
    """Visits at day ~U(5, 20) then every 10-30 days; right-censored after ``follow_up``; some exact rows."""
    n = t.size
    first = rng.uniform(5.0, 20.0, n)
    gap = rng.uniform(10.0, 30.0, n)
    k = np.floor((t - first) / gap)
    lower = np.where(t <= first, 0.0, first + k * gap)
    upper = np.where(t <= first, first, first + (k + 1.0) * gap)
    late = upper > follow_up
    lower[late] = np.minimum(lower[late], follow_up)
    upper[late] = np.inf
    exact = (rng.uniform(size=n) < exact_share) & ~late
    lower[exact] = upper[exact] = t[exact]
    return lower, upper


def simulate_rows(
    family: str, n: int, seed: int, params: dict[str, float] | None = None, exact_share: float = 0.05
) -> pd.DataFrame:
    """Rows with covariates ``dose`` (normal) and ``male`` (0/1) and bounds ``lo``/``hi`` from an AFT model."""
    p = TRUE if params is None else params
    rng = np.random.default_rng(seed)
    dose = rng.normal(0.0, 1.0, n)
    male = (rng.uniform(size=n) < 0.3).astype(float)
    log_t = p["intercept"] + p["dose"] * dose + p["male"] * male + np.exp(p["log_scale"]) * draw_eps(family, rng, n)
    lo, hi = censor_by_visits(np.exp(log_t), rng, exact_share=exact_share)
    return pd.DataFrame({"dose": dose, "male": male, "lo": lo, "hi": hi})


def simulate_groups(
    family: str, n_groups: int, per_group: int, tau: float, seed: int, scale: float = 0.3
) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows of ``n_groups`` patients with a normal random intercept of SD ``tau``; returns rows and true effects."""
    rng = np.random.default_rng(seed)
    n = n_groups * per_group
    group = np.repeat(np.arange(n_groups), per_group)
    effect = tau * rng.normal(size=n_groups)
    dose = rng.normal(0.0, 1.0, n)
    log_t = 4.4 + 0.3 * dose + effect[group] + scale * draw_eps(family, rng, n)
    lo, hi = censor_by_visits(np.exp(log_t), rng, exact_share=0.0)
    labels = np.array([f"p{g:05d}" for g in range(n_groups)])
    return pd.DataFrame({"patient": labels[group], "dose": dose, "lo": lo, "hi": hi}), effect


@pytest.fixture
def rows() -> Callable[..., pd.DataFrame]:
    return simulate_rows


@pytest.fixture
def grouped_rows() -> Callable[..., tuple[pd.DataFrame, np.ndarray]]:
    return simulate_groups
