"""Simulated clinic-like data sets for the survival benchmarks (seeded, deterministic).

Durations follow a Weibull AFT model; the wear-off time is only seen between follow-up visits on whole days, so rows
are interval-censored ``(last visit with effect, first visit at baseline]``, left-censored when the effect was gone at
the first visit, right-censored at the end of follow-up, and a few are exact (the patient reported the day).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COVARIATES = ["log_rel_dose", "male", "activity", "large_area", "first_treatment", "age_c", "long_acting"]
TRUE_BETA = np.array([0.30, -0.12, -0.06, -0.05, -0.08, 0.004, 0.15])
TRUE_INTERCEPT = 4.45
TRUE_SCALE = 0.35
FOLLOW_UP_DAYS = 365.0


def visit_censor(
    durations: np.ndarray, rng: np.random.Generator, exact_share: float = 0.02
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds ``(lower, upper]`` from a visit schedule: first visit after 7-21 days, then every 14-35 days."""
    n = durations.size
    first = np.round(rng.uniform(7.0, 21.0, n))
    gap = np.round(rng.uniform(14.0, 35.0, n))
    k = np.floor((durations - first) / gap)
    before_first = durations <= first
    lower = np.where(before_first, 0.0, first + k * gap)
    upper = np.where(before_first, first, first + (k + 1.0) * gap)
    late = upper > FOLLOW_UP_DAYS
    lower[late] = np.minimum(lower[late], FOLLOW_UP_DAYS)
    upper[late] = np.inf
    exact = (rng.uniform(size=n) < exact_share) & ~late & (durations > 1.0)
    lower[exact] = upper[exact] = np.round(durations[exact], 1)
    return lower, upper


def clinic_rows(n: int, seed: int) -> pd.DataFrame:
    """``n`` treatments with the seven covariates of :data:`COVARIATES` and ``lower``/``upper`` bounds in days."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, len(COVARIATES)))
    X[:, 0] = rng.normal(0.0, 0.4, n)
    X[:, 1] = rng.uniform(size=n) < 0.15
    X[:, 2] = rng.integers(0, 3, n)
    X[:, 3] = rng.uniform(size=n) < 0.2
    X[:, 4] = rng.uniform(size=n) < 0.3
    X[:, 5] = rng.normal(0.0, 11.0, n)
    X[:, 6] = rng.uniform(size=n) < 0.1
    log_t = TRUE_INTERCEPT + X @ TRUE_BETA + TRUE_SCALE * np.log(rng.exponential(size=n))
    lower, upper = visit_censor(np.exp(log_t), rng)
    df = pd.DataFrame(X, columns=COVARIATES)
    df["lower"] = lower
    df["upper"] = upper
    return df


def clinic_patients(n_patients: int, per_patient: int, tau: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Treatments of ``n_patients`` patients (``per_patient`` each) with a patient random intercept of SD ``tau``.

    Returns the rows (``patient``, ``log_rel_dose``, ``male``, ``lower``, ``upper``) and the true effects.
    """
    rng = np.random.default_rng(seed)
    n = n_patients * per_patient
    patient = np.repeat(np.arange(n_patients), per_patient)
    effect = tau * rng.normal(size=n_patients)
    dose = rng.normal(0.0, 0.4, n)
    male = np.repeat(rng.uniform(size=n_patients) < 0.15, per_patient).astype(float)
    log_t = 4.45 + 0.30 * dose - 0.12 * male + effect[patient] + 0.30 * np.log(rng.exponential(size=n))
    lower, upper = visit_censor(np.exp(log_t), rng, exact_share=0.0)
    df = pd.DataFrame({"patient": patient, "log_rel_dose": dose, "male": male, "lower": lower, "upper": upper})
    return df, effect


def turnbull_rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` interval-censored wear-off times without covariates (whole-day visits, right-censoring at a year)."""
    rng = np.random.default_rng(seed)
    durations = np.exp(4.45 + 0.4 * np.log(rng.exponential(size=n)))
    return visit_censor(durations, rng, exact_share=0.0)
