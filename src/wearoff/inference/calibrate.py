"""Calibration of the population parameters on published arms: maximum a posteriori, deterministic.

The objective is the weighted log-likelihood of :mod:`wearoff.inference.likelihood` plus the normal log prior
of ``data/priors.toml``; it is maximised by L-BFGS-B from the prior means with finite-difference gradients
(optionally computed on several processes). Leave-one-study-out cross-validation refits without each study,
warm-started from the full fit, and predicts the study's rows.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from wearoff import __version__
from wearoff.inference.evidence import EvidenceRow
from wearoff.inference.likelihood import FitRow, fit_rows, log_likelihood, log_prior
from wearoff.model.arms import predict_arms
from wearoff.model.parameters import Parameters, PriorSet, load_priors

FD_STEP = 1e-4
UNUSABLE = 1e12
"""The objective where the model cannot be evaluated: the optimiser backs off."""
Progress = Callable[[str], None]


@dataclass
class Objective:
    """Negative log posterior over a vector of the fitted parameters."""

    rows: list[FitRow]
    names: list[str]
    priors: PriorSet = field(default_factory=load_priors)

    def params(self, x: np.ndarray) -> Parameters:
        return Parameters(dict(zip(self.names, map(float, x), strict=True)), self.priors)

    def __call__(self, x: np.ndarray) -> float:
        params = self.params(x)
        try:
            value = -(log_likelihood(params, self.rows) + log_prior(params.values, self.priors))
        except (OverflowError, FloatingPointError, ZeroDivisionError):
            return UNUSABLE  # a line search stepped far outside the plausible region
        return value if math.isfinite(value) else UNUSABLE


_WORKER_OBJECTIVE: Objective | None = None


def _init_worker(objective: Objective) -> None:
    global _WORKER_OBJECTIVE
    _WORKER_OBJECTIVE = objective


def _evaluate(x: np.ndarray) -> float:
    assert _WORKER_OBJECTIVE is not None
    return _WORKER_OBJECTIVE(x)


def _gradient(objective: Objective, x: np.ndarray, f0: float, pool: ProcessPoolExecutor | None) -> np.ndarray:
    """Forward-difference gradient; the evaluations run on the pool when there is one."""
    points = [x + FD_STEP * e for e in np.eye(len(x))]
    values = list(pool.map(_evaluate, points)) if pool else [objective(p) for p in points]
    return (np.asarray(values) - f0) / FD_STEP


@dataclass(frozen=True)
class Fit:
    """A calibration: the parameters, the objective at the optimum and how the optimiser ended."""

    params: Parameters
    objective: float
    iterations: int
    converged: bool
    message: str


def fit(
    rows: list[FitRow],
    start: Parameters | None = None,
    *,
    workers: int = 1,
    max_iter: int = 400,
    ftol: float = 1e-10,
    progress: Progress | None = None,
) -> Fit:
    """Maximise the posterior of the population parameters given the rows (deterministic)."""
    priors = load_priors()
    areas = {r.arm.area for r in rows}
    products = {r.arm.product for r in rows}
    names = priors.fitted_names(areas, products)
    objective = Objective(rows, names, priors)
    start = start or Parameters.prior_means()
    x0 = np.array([start[n] for n in names])
    pool = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(objective,)) if workers > 1 else None
    iteration = 0

    def fun_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
        f0 = objective(x)
        return f0, _gradient(objective, x, f0, pool)

    def callback(xk: np.ndarray) -> None:
        nonlocal iteration
        iteration += 1
        if progress:
            progress(f"iteration {iteration}")

    try:
        result = minimize(
            fun_and_grad,
            x0,
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options={"maxiter": max_iter, "ftol": ftol, "gtol": 1e-5},
        )
    finally:
        if pool:
            pool.shutdown()
    params = objective.params(result.x)
    return Fit(params, float(result.fun), int(result.nit), bool(result.success), str(result.message))


@dataclass(frozen=True)
class RowPrediction:
    """An evidence row with a prediction and its 90 % interval (in-sample, or by a model that never saw its study)."""

    row: EvidenceRow
    predicted: float
    lower90: float
    upper90: float


def leave_one_study_out(
    rows: list[EvidenceRow],
    full: Parameters,
    *,
    studies: list[str] | None = None,
    workers: int = 1,
    max_iter: int = 30,
    progress: Progress | None = None,
) -> list[RowPrediction]:
    """Refit without each study (warm-started from the full fit) and predict that study's rows.

    A refit starts at the full fit and stops when the objective changes by less than 1e-8 relative: leaving
    one study out moves the optimum a little, and the held-out predictions are stable well before that.
    """
    usable = [r for r in rows if r.unsupported is None and r.value is not None]
    all_studies = list(dict.fromkeys(r.study for r in usable))
    out: list[RowPrediction] = []
    for i, study in enumerate(studies or all_studies, start=1):
        if progress:
            progress(f"study {i}/{len(studies or all_studies)}: {study}")
        train = fit_rows([r for r in rows if r.study != study])
        held = [r for r in usable if r.study == study]
        params = fit(train, full, workers=workers, max_iter=max_iter, ftol=1e-8).params
        preds = predict_arms(params, [r.arm for r in held], [r.endpoint for r in held], [r.day for r in held])
        out += [RowPrediction(r, p.predicted, p.lower90, p.upper90) for r, p in zip(held, preds, strict=True)]
    return out


def provenance(evidence: Path, result: Fit, n_rows: int) -> dict:
    """What a shipped parameter file records of its fit."""
    digest = hashlib.sha256(evidence.read_bytes()).hexdigest()
    return {
        "evidence_file": evidence.name,
        "evidence_sha256": digest,
        "rows_fitted": n_rows,
        "objective": "weighted binomial logit-normal and log-normal likelihood + normal priors (data/priors.toml)",
        "negative_log_posterior": round(result.objective, 6),
        "optimiser": f"L-BFGS-B, {result.iterations} iterations, {result.message}",
        "converged": result.converged,
        "fitted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wearoff_version": __version__,
        "cpu_count": os.cpu_count(),
    }
