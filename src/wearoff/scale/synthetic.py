r"""Synthetic interval-censored data with a known answer, for tests and benchmarks of the engines.

:math:`\log T = \beta_0 + x^\top\beta + b_g + \sigma\varepsilon` (Weibull: :math:`\varepsilon` Gumbel-min),
:math:`b_g \sim N(0, \tau^2)` for groups of ``group_size`` consecutive rows; follow-up visits every
:math:`v \sim U(10, 35)` days give the interval :math:`(\lfloor T/v\rfloor v, \lfloor T/v\rfloor v + v]` (lower 0 =
left-censored), and a share ``censored`` is right-censored at a uniform fraction of the duration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_intervals"]


def simulate_intervals(
    n_rows: int,
    rng: np.random.Generator | int,
    n_covariates: int = 4,
    group_size: int = 4,
    tau: float = 0.3,
    sigma: float = 0.35,
    censored: float = 0.25,
) -> pd.DataFrame:
    """Columns ``lower``, ``upper``, ``x1..xq`` (normal, 0/1 and shifted covariates) and ``group`` (int labels)."""
    rng = np.random.default_rng(rng)
    groups = np.arange(n_rows) // group_size
    n_groups = int(groups[-1]) + 1 if n_rows else 0
    X = rng.normal(size=(n_rows, n_covariates))
    X[:, 1::3] = (X[:, 1::3] > 0.3).astype(float)
    X[:, 2::3] = 3.0 + 2.0 * X[:, 2::3]
    beta = np.linspace(0.3, -0.2, n_covariates) / np.maximum(X.std(axis=0), 1e-12)
    log_t = 4.5 + X @ beta + rng.normal(0.0, tau, n_groups)[groups] - sigma * rng.gumbel(size=n_rows)
    t = np.exp(log_t)
    visit = rng.uniform(10.0, 35.0, n_rows)
    lower = np.floor(t / visit) * visit
    upper = lower + visit
    cut = rng.uniform(size=n_rows) < censored
    lower[cut] = np.floor(t[cut] * rng.uniform(0.2, 1.0, int(cut.sum())))
    upper[cut] = np.inf
    lower[cut & (lower == 0)] = 1.0
    frame = pd.DataFrame({"lower": lower, "upper": upper})
    for j in range(n_covariates):
        frame[f"x{j + 1}"] = X[:, j]
    frame["group"] = groups
    return frame
