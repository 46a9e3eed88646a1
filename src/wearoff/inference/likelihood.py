r"""The likelihood of published arms given the population parameters, and the log prior.

* Percent rows with *n* patients: the observed count :math:`k = \mathrm{round}(n\,v/100)` is binomial with
  a between-trial logit-normal spread (integrated by Gauss-Hermite quadrature),
  :math:`P(k) = \int \mathrm{Bin}(k; n, p^*(\zeta))\,\phi(\zeta)\,d\zeta` with
  :math:`\mathrm{logit}\,p^*(\zeta) = \mathrm{logit}\,p + \sigma_{het}\zeta`.
* Day rows: :math:`\log v \sim N(\log \hat v, s^2)` with *s* from :func:`wearoff.model.arms.days_log_sd`. A day
  reported in whole days (median onset) only says the trial's day lies in :math:`(v - 1, v]`:
  :math:`P = \Phi\big((\log v - \log\hat v)/s\big) - \Phi\big((\log(v - 1) - \log\hat v)/s\big)`.

* Rows of one trial share the trial's own effects (whom it enrols, how its raters score, how it follows up): a
  potency shift *u* (its patients need :math:`e^{u}` times the population's dose), a duration shift *v* (its
  effects last :math:`e^{v}` times as long) and a rating shift *r* (its raters grade every rated share *r* logits
  more leniently), :math:`u \sim N(0, \sigma_{pot}^2)`, :math:`v \sim N(0, \sigma_{dur}^2)`, :math:`r \sim N(0,
  \sigma_{rat}^2)`. Each row moves with them on its logit or log scale by its loadings
  (:func:`wearoff.model.arms.study_loadings`, a first-order expansion in *u* and *v*, exact in *r*), and the
  trial's rows are integrated jointly by product Gauss-Hermite quadrature (nodes :math:`\zeta_q`, weights
  :math:`a_q`): :math:`\log L_s = \log \sum_q a_q \prod_{i \in s} P_i(\zeta_q)^{w_i}` with :math:`w_i` the row
  weights below. The row-level spread :math:`\sigma_{het}` is what remains between arms once their trial's
  effects are known.

Rows are weighted: half weight for numbers read off a graph (``approx``), and rows of one study share their
patients, so a study with more than ``STUDY_ROW_CAP`` rows counts as that many independent rows (the weights
multiply each row's log-likelihood inside its trial's integral).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, gammaln, logit, logsumexp, ndtr

from wearoff.catalog import Catalog
from wearoff.inference.evidence import EvidenceRow
from wearoff.model.arms import (
    DEFAULT_ARM_SIZE,
    PROB_FLOOR,
    STUDY_EFFECT_SDS,
    Arm,
    arm_values,
    days_log_sd,
    study_loadings,
    study_sds,
)
from wearoff.model.cohort import product_normal_nodes, standard_normal_nodes
from wearoff.model.endpoints import ENDPOINTS
from wearoff.model.parameters import Parameters, PriorSet

STUDY_ROW_CAP = 6
APPROX_WEIGHT = 0.5
N_HET_NODES = 20
N_STUDY_NODES = 7
"""Gauss-Hermite nodes per trial effect (343 over potency, duration and rating): exact for polynomials of degree
13 in the shifts, which reach 3.8 sd."""


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
    """Log-likelihood of each observed arm-level value given the model's predictions: (rows,), or (rows, Q) for
    predictions (rows, Q) (one column per node of a trial's own effect)."""
    predicted = np.asarray(predicted, float)
    shape = predicted.shape
    pred = predicted.reshape(len(rows), -1)
    out = np.empty_like(pred)
    n = np.array([r.arm.n or DEFAULT_ARM_SIZE for r in rows], float)
    observed = np.array([r.value for r in rows])
    percent = np.array([ENDPOINTS[r.endpoint].unit == "percent" for r in rows])
    if percent.any():
        k = np.round(n[percent] * np.clip(observed[percent], 0.0, 100.0) / 100.0)
        het = math.exp(params["log_het_logit"])
        columns = pred.shape[1]
        out[percent] = binomial_logit_normal(
            np.repeat(k, columns), np.repeat(n[percent], columns), pred[percent].ravel() / 100.0, het
        ).reshape(-1, columns)
    for i in np.flatnonzero(~percent):
        sd = days_log_sd(params, rows[i].endpoint, int(n[i]))
        with np.errstate(divide="ignore", invalid="ignore"):
            resid = (math.log(observed[i]) - np.log(pred[i])) / sd
        if ENDPOINTS[rows[i].endpoint].whole_days:
            out[i] = _log_whole_day_probability(observed[i], resid, sd)
        else:
            out[i] = -0.5 * resid**2 - math.log(sd) - 0.5 * math.log(2 * math.pi)
        out[i] = np.where(pred[i] > 0, out[i], -1e6)
    return out.reshape(shape)


def _log_whole_day_probability(reported: float, upper: np.ndarray, sd: float) -> np.ndarray:
    """Log P(a trial's continuous day falls within the reported whole day (v - 1, v]) when its log is normal with
    sd ``sd`` and ``upper`` = (log v - its mean) / sd."""
    lower = upper - (math.log(reported) - math.log(reported - 1.0)) / sd if reported > 1.0 else -np.inf
    return np.log(np.maximum(ndtr(upper) - ndtr(lower), 1e-300))


def study_nodes(params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    r"""(Q, effects) shifts and (Q,) weights of the product Gauss-Hermite quadrature over a trial's own effects,
    :math:`\sigma_f z_q` (:data:`wearoff.model.arms.STUDY_EFFECT_SDS`)."""
    grid, weights = product_normal_nodes(N_STUDY_NODES, len(STUDY_EFFECT_SDS))
    return grid * study_sds(params)[None, :], weights


def node_log_likelihoods(
    params: Parameters, rows: list[FitRow], predicted: np.ndarray, loadings: np.ndarray
) -> np.ndarray:
    """(rows, Q) log-likelihood of each row were its trial shifted by each node of :func:`study_nodes`: the
    prediction moves by the loadings (rows, effects) times the shifts on its logit (percents) or log (days)."""
    shifts, _ = study_nodes(params)
    percent = np.array([ENDPOINTS[r.endpoint].unit == "percent" for r in rows])
    with np.errstate(divide="ignore"):
        link = np.where(percent, logit(np.clip(predicted / 100.0, PROB_FLOOR, 1 - PROB_FLOOR)), np.log(predicted))
    moved = link[:, None] + loadings @ shifts.T
    with np.errstate(over="ignore"):
        return row_log_likelihoods(params, rows, np.where(percent[:, None], 100.0 * expit(moved), np.exp(moved)))


def study_log_likelihood(params: Parameters, terms: np.ndarray, studies: np.ndarray) -> float:
    r"""Sum over trials of :math:`\log \sum_q w_q \exp\big(\sum_{i \in s} \ell_{iq}\big)`: the rows of one
    trial share its node *q* (``terms`` (rows, Q) weighted log-likelihoods, ``studies`` each row's trial index)."""
    _, weights = study_nodes(params)
    per_study = np.zeros((int(studies.max(initial=-1)) + 1, terms.shape[1]))
    np.add.at(per_study, studies, terms)
    return float(np.sum(logsumexp(per_study, b=weights[None, :], axis=1)))


def study_index(rows: list[FitRow]) -> np.ndarray:
    """Each row's trial, as an index in order of first appearance."""
    position: dict[str, int] = {}
    return np.array([position.setdefault(r.study, len(position)) for r in rows], int)


def predict_rows(params: Parameters, rows: list[FitRow], catalog: Catalog | None = None) -> np.ndarray:
    """Model predictions for rows, every arm's cohort built once."""
    return arm_values(params, [r.arm for r in rows], [r.endpoint for r in rows], [r.day for r in rows], catalog)


def row_loadings(
    params: Parameters, rows: list[FitRow], predicted: np.ndarray, catalog: Catalog | None = None
) -> np.ndarray:
    """How far each row moves per unit of its trial's own effects (:func:`wearoff.model.arms.study_loadings`)."""
    arms, codes, days = [r.arm for r in rows], [r.endpoint for r in rows], [r.day for r in rows]
    return study_loadings(params, arms, codes, days, predicted, catalog)


def log_likelihood(params: Parameters, rows: list[FitRow], catalog: Catalog | None = None) -> float:
    """Weighted log-likelihood of all rows, each trial's own effects integrated out."""
    predicted = predict_rows(params, rows, catalog)
    weights = np.array([r.weight for r in rows])
    terms = weights[:, None] * node_log_likelihoods(
        params, rows, predicted, row_loadings(params, rows, predicted, catalog)
    )
    return study_log_likelihood(params, terms, study_index(rows))


def log_prior(values: dict[str, float], priors: PriorSet) -> float:
    """Sum of the normal log prior densities (up to a constant) of the fitted values."""
    total = 0.0
    for name, value in values.items():
        prior = priors.prior(name)
        if prior.sd > 0:
            total -= 0.5 * ((value - prior.mean) / prior.sd) ** 2
    return total
