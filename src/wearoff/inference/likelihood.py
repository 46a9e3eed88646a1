r"""The likelihood of published arms given the population parameters, and the log prior.

* Percent rows with *n* patients: the observed count :math:`k = \mathrm{round}(n\,v/100)` is binomial with
  a between-trial logit-normal spread (integrated by Gauss-Hermite quadrature),
  :math:`P(k) = \int \mathrm{Bin}(k; n, p^*(\zeta))\,\phi(\zeta)\,d\zeta` with
  :math:`\mathrm{logit}\,p^*(\zeta) = \mathrm{logit}\,p + \sigma_{het}\zeta`.
* Day rows: :math:`\log v \sim N(\log \hat v, s^2)` with *s* from :func:`wearoff.model.arms.days_log_sd`. A day
  reported in whole days (median onset) only says the trial's day lies in :math:`(v - 1, v]`:
  :math:`P = \Phi\big((\log v - \log\hat v)/s\big) - \Phi\big((\log(v - 1) - \log\hat v)/s\big)`.

Rows are weighted: half weight for numbers read off a graph (``approx``), and rows of one study share their
patients, so a study with more than ``STUDY_ROW_CAP`` rows counts as that many independent rows.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, gammaln, logit, logsumexp, ndtr

from wearoff.catalog import Catalog
from wearoff.inference.evidence import EvidenceRow
from wearoff.model.arms import DEFAULT_ARM_SIZE, PROB_FLOOR, Arm, arm_values, days_log_sd
from wearoff.model.cohort import standard_normal_nodes
from wearoff.model.endpoints import ENDPOINTS
from wearoff.model.parameters import Parameters, PriorSet

STUDY_ROW_CAP = 6
APPROX_WEIGHT = 0.5
N_HET_NODES = 20


@dataclass(frozen=True)
class FitRow:
    """A row the likelihood uses: an arm, an endpoint, a day, the observed value and the row's weight."""

    study: str
    arm: Arm
    endpoint: str
    day: float | None
    value: float
    weight: float


def fit_rows(rows: list[EvidenceRow]) -> list[FitRow]:
    """The supported rows that carry a value, with their weights."""
    usable = [r for r in rows if r.unsupported is None and r.value is not None and r.arm is not None]
    per_study = Counter(r.study for r in usable)
    out = []
    for r in usable:
        weight = (APPROX_WEIGHT if r.approx else 1.0) * min(1.0, STUDY_ROW_CAP / per_study[r.study])
        if ENDPOINTS[r.endpoint].unit == "days" and r.value <= 0:
            continue
        out.append(FitRow(r.study, r.arm, r.endpoint, r.day, float(r.value), weight))
    return out


def binomial_logit_normal(k: np.ndarray, n: np.ndarray, p: np.ndarray, het: float) -> np.ndarray:
    """Log P(k of n) when logit p varies between trials with sd ``het`` (vectorised over rows)."""
    z, w = standard_normal_nodes(N_HET_NODES)
    p_star = expit(logit(np.clip(p, PROB_FLOOR, 1 - PROB_FLOOR))[:, None] + het * z[None, :])
    p_star = np.clip(p_star, 1e-300, 1.0 - 1e-16)
    log_choose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    terms = log_choose[:, None] + k[:, None] * np.log(p_star) + (n - k)[:, None] * np.log1p(-p_star)
    return logsumexp(terms, b=w[None, :], axis=1)


def row_log_likelihoods(params: Parameters, rows: list[FitRow], predicted: np.ndarray) -> np.ndarray:
    """Log-likelihood of each observed arm-level value given the model's predictions."""
    out = np.empty(len(rows))
    n = np.array([r.arm.n or DEFAULT_ARM_SIZE for r in rows], float)
    observed = np.array([r.value for r in rows])
    percent = np.array([ENDPOINTS[r.endpoint].unit == "percent" for r in rows])
    if percent.any():
        k = np.round(n[percent] * np.clip(observed[percent], 0.0, 100.0) / 100.0)
        het = math.exp(params["log_het_logit"])
        out[percent] = binomial_logit_normal(k, n[percent], predicted[percent] / 100.0, het)
    for i in np.flatnonzero(~percent):
        if not predicted[i] > 0:
            out[i] = -1e6
            continue
        sd = days_log_sd(params, rows[i].endpoint, int(n[i]))
        if ENDPOINTS[rows[i].endpoint].whole_days:
            out[i] = _log_whole_day_probability(observed[i], predicted[i], sd)
            continue
        resid = (math.log(observed[i]) - math.log(predicted[i])) / sd
        out[i] = -0.5 * resid**2 - math.log(sd) - 0.5 * math.log(2 * math.pi)
    return out


def _log_whole_day_probability(reported: float, predicted: float, sd: float) -> float:
    """Log P(a trial's continuous day falls within the reported whole day (v - 1, v]) when its log is
    N(log predicted, sd^2)."""
    upper = (math.log(reported) - math.log(predicted)) / sd
    lower = (math.log(reported - 1.0) - math.log(predicted)) / sd if reported > 1.0 else -math.inf
    return math.log(max(float(ndtr(upper) - ndtr(lower)), 1e-300))


def predict_rows(params: Parameters, rows: list[FitRow], catalog: Catalog | None = None) -> np.ndarray:
    """Model predictions for rows, every arm's cohort built once."""
    return arm_values(params, [r.arm for r in rows], [r.endpoint for r in rows], [r.day for r in rows], catalog)


def log_likelihood(params: Parameters, rows: list[FitRow], catalog: Catalog | None = None) -> float:
    """Weighted log-likelihood of all rows."""
    predicted = predict_rows(params, rows, catalog)
    weights = np.array([r.weight for r in rows])
    return float(np.sum(weights * row_log_likelihoods(params, rows, predicted)))


def log_prior(values: dict[str, float], priors: PriorSet) -> float:
    """Sum of the normal log prior densities (up to a constant) of the fitted values."""
    total = 0.0
    for name, value in values.items():
        prior = priors.prior(name)
        if prior.sd > 0:
            total -= 0.5 * ((value - prior.mean) / prior.sd) ** 2
    return total
