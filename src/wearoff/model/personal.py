r"""Personal forecasts: a patient's own follow-up scores update the model for their next treatment.

The population model's patient random effects become a posterior on a grid. The patient carries two random
effects, shared by all their treatments: sensitivity :math:`z_E` and a duration effect :math:`z_b`. Each
treatment *k* adds its own deviation :math:`\varepsilon_k`:

.. math:: \log\tau_{k} = \mu_k + \sigma_b z_b + \sigma_w \varepsilon_k,\qquad
          \sigma_b^2 = \rho_{icc}\,\sigma_\tau^2,\ \sigma_w^2 = (1 - \rho_{icc})\,\sigma_\tau^2

so the population spread :math:`\sigma_\tau` is unchanged and :math:`\rho_{icc}` (``duration_icc``) says how much
of it repeats. Every follow-up score (severity 0-3 at maximal contraction, by the clinician or the patient) on
day *t* after treatment *k* has the likelihood of the rater model (:mod:`wearoff.model.cohort`):

.. math:: P(\text{severity} \le s) = P(\text{scored at least } B - s \text{ grades better} \mid \Delta(t))

with *B* the pre-treatment severity. A wear-off between two visits is thus interval-censored by the scores
themselves: the last visit with effect and the first back at baseline. The posterior over the grid is

.. math:: p(z_E, z_b \mid \text{history}) \propto \phi(z_E)\,\phi(z_b)
          \prod_k \int \prod_{t} P(s_{kt} \mid z_E, z_b, \varepsilon)\,\phi(\varepsilon)\,d\varepsilon

and the next treatment's cohort carries it (:func:`personal_cohort`). With no history the posterior is the
prior and the forecast is the population's: one path for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from wearoff.catalog import Catalog
from wearoff.model import curve
from wearoff.model.cohort import (
    RATERS,
    Cohorts,
    baseline_mix,
    normal_cdf,
    shared_fields,
    standard_normal_nodes,
    treatment_terms,
)
from wearoff.model.parameters import Parameters
from wearoff.model.treatment import Treatment, covariates_for

N_PATIENT_EFFECT_NODES = 16
N_PATIENT_DURATION_NODES = 16
N_EPISODE_NODES = 7
NODE_WEIGHT_FLOOR = 1e-9
TREATMENT_NODE_SPREAD = 0.4
"""Where a treatment's own scores resolve its deviation on quadrature nodes, each node keeps this share of the
treatment-level spread, so the wear-off curve stays smooth between nodes."""
"""Grid nodes of a forecast's cohort carrying less weight than this are dropped (no quantile can feel them)."""
RATER_CODES = {"clinician": "inv", "patient": "subj"}
"""Record rater names and the model's raters: clinicians score like trial investigators, patients like trial
patients (their optimism included)."""


@dataclass(frozen=True)
class Observation:
    """A follow-up score: ``day`` after the treatment, severity 0-3 at maximal contraction, who rated it."""

    day: float
    severity: int
    rater: str = "clinician"


@dataclass(frozen=True)
class Episode:
    """An earlier treatment of the patient and the scores that followed it (until the next treatment)."""

    treatment: Treatment
    observations: tuple[Observation, ...] = ()


@dataclass(frozen=True)
class PatientPosterior:
    """Weights over the grid of the patient's random effects (sensitivity x duration), summing to 1."""

    z_effect: np.ndarray
    z_duration: np.ndarray
    weights: np.ndarray = field(repr=False)
    episodes: int = 0
    observations: int = 0

    @classmethod
    def prior(cls) -> PatientPosterior:
        z_e, w_e = standard_normal_nodes(N_PATIENT_EFFECT_NODES)
        z_b, w_b = standard_normal_nodes(N_PATIENT_DURATION_NODES)
        return cls(z_e, z_b, np.outer(w_e, w_b))

    def mean_duration_effect(self) -> float:
        """Posterior mean of the patient's duration effect :math:`z_b` (0 for the population)."""
        return float(np.sum(self.weights.sum(axis=0) * self.z_duration))


def duration_spreads(params: Parameters) -> tuple[float, float]:
    """(sigma_b, sigma_w): the patient's and the treatment's share of the spread of log duration."""
    sigma = math.exp(params["log_sigma_tau"])
    icc = min(max(params["duration_icc"], 0.0), 1.0)
    return sigma * math.sqrt(icc), sigma * math.sqrt(1.0 - icc)


def _severity_probability(
    improvement: np.ndarray, baseline: float, severity: np.ndarray, optimism: np.ndarray, sd: np.ndarray
) -> np.ndarray:
    """P(each rater scores the observed severity) given the true improvement in grades (the cohort's rater model).

    ``improvement`` has the observations on its first axis; ``severity``, ``optimism`` and ``sd`` are one per
    observation. A severity of 3 also takes every score worse than the untreated one.
    """
    shape = (-1,) + (1,) * (improvement.ndim - 1)
    severity, optimism, sd = (np.asarray(a, float).reshape(shape) for a in (severity, optimism, sd))
    # u(k) = P(an honest rating at least k grades better); P(score <= s) = (1 - o) u(B - s) + o u(B - s - 1):
    # P(score = s) needs u at B - s - 1, B - s and B - s + 1, the first two only below 3, the last two only above 0
    gap = baseline - severity

    middle = normal_cdf((improvement - (gap - 0.5)) / sd)
    upper = np.ones(improvement.shape)
    rows = severity.ravel() < 3
    o, imp, d = optimism[rows], improvement[rows], sd[rows]
    upper[rows] = (1.0 - o) * middle[rows] + o * normal_cdf((imp - (gap[rows] - 1.5)) / d)
    lower = np.zeros(improvement.shape)
    rows = severity.ravel() >= 1
    o, imp, d = optimism[rows], improvement[rows], sd[rows]
    lower[rows] = (1.0 - o) * normal_cdf((imp - (gap[rows] + 0.5)) / d) + o * middle[rows]
    return np.clip(upper - lower, 1e-12, 1.0)


SCORE_GRID = np.linspace(-1.0, 4.0, 2501)
"""Improvements (grades, steps of 0.002) on which :func:`log_score_table` tabulates the rater model."""


@lru_cache(maxsize=64)
def log_score_table(baseline: float, optimism: tuple[float, ...], sd: tuple[float, ...]) -> np.ndarray:
    r"""(R x 4, G) log P(severity s | improvement) on :data:`SCORE_GRID`, row ``r * 4 + s`` for rater *r* of
    :data:`~wearoff.model.cohort.RATERS` (their optimism and sd in that order).

    Interpolated linearly in the improvement it stands for :func:`_severity_probability` at a fraction of the
    cost: :math:`\log\Phi` has curvature of about :math:`1/s_r^2` in its tails, so the error is near
    :math:`h^2 / (8 s_r^2) \approx 10^{-5}` on the log scale; it is below :math:`5\cdot10^{-5}` wherever the
    probability exceeds :math:`10^{-11}` (``tests/test_personal.py``), larger only next to the floor of
    :math:`10^{-12}` that keeps the logarithm finite."""
    n = len(optimism)
    grid = np.broadcast_to(SCORE_GRID, (n * 4, SCORE_GRID.size))
    severity = np.tile(np.arange(4.0), n)
    return np.log(_severity_probability(grid, baseline, severity, np.repeat(optimism, 4), np.repeat(sd, 4)))


def _interpolate_rows(table: np.ndarray, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``table[rows[i]]`` at ``x[i, ...]`` by linear interpolation on :data:`SCORE_GRID` (clamped at its ends)."""
    lo, step, n = SCORE_GRID[0], SCORE_GRID[1] - SCORE_GRID[0], SCORE_GRID.size
    position = (np.clip(x, lo, SCORE_GRID[-1]) - lo) / step
    index = np.minimum(position.astype(np.intp), n - 2)
    weight = position - index
    flat = index + (rows * n).reshape((-1,) + (1,) * (x.ndim - 1))
    values = table.ravel()
    return values[flat] * (1.0 - weight) + values[flat + 1] * weight


EPISODE_CHUNK = 256
"""Episodes whose likelihoods are computed together (bounds the memory of the batched arrays)."""


def _grade_weights(params: Parameters, episodes: list[Episode]) -> np.ndarray:
    """(K, 3) weights of the untreated grades 1, 2, 3 of each episode: its own, or the trial mix."""
    out = np.zeros((len(episodes), 3))
    for k, episode in enumerate(episodes):
        grades, weights = baseline_mix(params, episode.treatment.baseline_severity)
        out[k, grades.astype(int) - 1] = weights
    return out


def _episodes_log_likelihood(
    params: Parameters,
    episodes: list[Episode],
    prior: PatientPosterior,
    catalog: Catalog | None,
    *,
    per_treatment_node: bool = False,
) -> np.ndarray:
    """(K, nE, nB) log-likelihood of each episode's scores at every grid node, batched over episodes; with
    ``per_treatment_node``, (K, nE, nB, nEps): not integrated over the treatment's own deviation."""
    fields = shared_fields(params)
    sigma_b, sigma_w = duration_spreads(params)
    z_eps, w_eps = standard_normal_nodes(N_EPISODE_NODES)
    shape = (len(prior.z_effect), len(prior.z_duration)) + ((N_EPISODE_NODES,) if per_treatment_node else ())
    out = np.empty((len(episodes), *shape))
    for start in range(0, len(episodes), EPISODE_CHUNK):
        chunk = episodes[start : start + EPISODE_CHUNK]
        terms = treatment_terms(params, covariates_for([e.treatment for e in chunk], params, catalog))
        peak = terms.peak(prior.z_effect)  # (K, nE)
        tau = np.exp(
            terms.log_tau_mean[:, None, None] + sigma_b * prior.z_duration[None, :, None] + sigma_w * z_eps
        )  # (K, nB, nEps)
        owner = np.repeat(np.arange(len(chunk)), [len(e.observations) for e in chunk])
        observations = [o for e in chunk for o in e.observations]
        rater_index = np.array([RATERS.index(RATER_CODES.get(o.rater, o.rater)) for o in observations], np.intp)
        days = np.array([o.day for o in observations], float)
        table_row = rater_index * 4 + np.array([o.severity for o in observations], np.intp)
        optimism = tuple(fields["rater_optimism"][r] for r in RATERS)
        sd = tuple(fields["rater_sd"][r] for r in RATERS)
        # effect at each (observation, sensitivity node, duration node, treatment node)
        e = curve.effect(
            days[:, None, None, None],
            peak=peak[owner][:, :, None, None],
            onset_day=np.exp(terms.onset_log_mean[owner])[:, None, None, None],
            tau=tau[owner][:, None, :, :],
            gamma=fields["gamma"],
            shape=fields["rise_shape"],
        )
        grade_weights = _grade_weights(params, chunk)
        like = np.zeros((len(chunk), *shape))
        like[[not e.observations for e in chunk]] = 1.0
        for g in (1, 2, 3):
            rows = grade_weights[owner, g - 1] > 0  # only the episodes that may start from this grade
            if not rows.any():
                continue
            improvement = curve.improvement(e[rows], np.asarray(float(g)), fields["visibility"])
            log_p = _interpolate_rows(log_score_table(float(g), optimism, sd), table_row[rows], improvement)
            kept = owner[rows]
            starts = np.flatnonzero(np.r_[True, kept[1:] != kept[:-1]])
            per_episode = np.exp(np.add.reduceat(log_p, starts, axis=0))  # (episodes, nE, nB, nEps)
            if not per_treatment_node:
                per_episode = np.sum(per_episode * w_eps, axis=-1)
            which = kept[starts]
            like[which] += grade_weights[which, g - 1].reshape((-1,) + (1,) * len(shape)) * per_episode
        out[start : start + len(chunk)] = np.log(np.maximum(like, 1e-300))
    return out


def _check(observation: Observation) -> None:
    if observation.rater not in RATER_CODES and observation.rater not in RATERS:
        raise ValueError(f"rater must be clinician or patient, not {observation.rater!r}")
    if observation.severity not in (0, 1, 2, 3):
        raise ValueError(f"severity must be 0, 1, 2 or 3, not {observation.severity!r}")


def patient_posteriors(
    params: Parameters, histories: list[list[Episode]], catalog: Catalog | None = None
) -> list[PatientPosterior]:
    """The posterior of each patient's random effects given their earlier treatments and scores (batched)."""
    prior = PatientPosterior.prior()
    scored = [(i, e) for i, history in enumerate(histories) for e in history if e.observations]
    for _, episode in scored:
        for observation in episode.observations:
            _check(observation)
    log_post = np.broadcast_to(np.log(prior.weights), (len(histories), *prior.weights.shape)).copy()
    if scored:
        owners = np.array([i for i, _ in scored])
        np.add.at(log_post, owners, _episodes_log_likelihood(params, [e for _, e in scored], prior, catalog))
    out = []
    for history, log_w in zip(histories, log_post, strict=True):
        weights = np.exp(log_w - log_w.max())
        n_obs = sum(len(e.observations) for e in history)
        out.append(PatientPosterior(prior.z_effect, prior.z_duration, weights / weights.sum(), len(history), n_obs))
    return out


def patient_posterior(
    params: Parameters, episodes: list[Episode] | tuple[Episode, ...], catalog: Catalog | None = None
) -> PatientPosterior:
    """The posterior of a patient's random effects given their earlier treatments and scores."""
    return patient_posteriors(params, [list(episodes)], catalog)[0]


def current_log_likelihoods(params: Parameters, currents: list[Episode], catalog: Catalog | None = None) -> np.ndarray:
    """(K, nE, nB, nEps) log-likelihood of each treatment's own scores at every node of the patient's grid and of
    the treatment's own deviation (batched; see :func:`personal_cohort`)."""
    return _episodes_log_likelihood(params, currents, PatientPosterior.prior(), catalog, per_treatment_node=True)


def personal_cohort(
    params: Parameters,
    treatment: Treatment,
    posterior: PatientPosterior,
    catalog: Catalog | None = None,
    current: Episode | None = None,
    current_log_likelihood: np.ndarray | None = None,
) -> tuple[Cohorts, float]:
    r"""The cohort of a treatment for this patient, and its relative dose.

    ``current`` is the treatment's own episode when it already has follow-up scores (the posterior includes it):
    its scores then also inform this treatment's own deviation :math:`\varepsilon`, so the cohort's nodes run
    over the treatment-level effect too (smoothed by ``TREATMENT_NODE_SPREAD`` of :math:`\sigma_w`).
    ``current_log_likelihood`` is that episode's :func:`current_log_likelihoods`, if already computed.
    """
    terms = treatment_terms(params, covariates_for([treatment], params, catalog))
    peak = terms.peak(posterior.z_effect)[0]
    sigma_b, sigma_w = duration_spreads(params)
    grades, w_grades = baseline_mix(params, treatment.baseline_severity)
    log_tau = terms.log_tau_mean[0] + sigma_b * posterior.z_duration[None, :, None]  # (1, nB, 1)
    weights = posterior.weights[:, :, None]  # (nE, nB, 1)
    spread = sigma_w
    learning = current is not None and bool(current.observations)
    if posterior.observations == 0 and not learning:
        # nothing learnt about the patient: their duration effect is integrated analytically,
        # sigma_b z_b + sigma_w eps ~ N(0, sigma_b^2 + sigma_w^2), on one node
        log_tau = np.full((1, 1, 1), terms.log_tau_mean[0])
        weights = posterior.weights.sum(axis=1)[:, None, None]
        spread = math.hypot(sigma_b, sigma_w)
    if learning:
        z_eps, w_eps = standard_normal_nodes(N_EPISODE_NODES)
        log_l = current_log_likelihood  # (nE, nB, nEps)
        if log_l is None:
            log_l = current_log_likelihoods(params, [current], catalog)[0]
        log_integrated = np.log(np.sum(np.exp(log_l) * w_eps, axis=-1, keepdims=True))
        log_w = np.log(np.maximum(weights, 1e-300)) - log_integrated + log_l + np.log(w_eps)
        weights = np.exp(log_w - log_w.max())
        log_tau = log_tau + sigma_w * z_eps[None, None, :]
        spread = sigma_w * TREATMENT_NODE_SPREAD
    n_e, n_b, n_k, n_g = len(posterior.z_effect), weights.shape[1], weights.shape[-1], len(grades)
    full = (n_e, n_b, n_k, n_g)
    peak_j = np.broadcast_to(peak[:, None, None, None], full).ravel()
    mean_j = np.broadcast_to(log_tau[..., None], full).ravel()
    weight_j = (weights[..., None] * w_grades).ravel()
    grade_j = np.broadcast_to(grades, full).ravel()
    keep = weight_j > NODE_WEIGHT_FLOOR * weight_j.sum()  # nodes a forecast cannot feel: dropped
    shape = (1, 1, int(keep.sum()))
    cohort = Cohorts(
        peak=peak_j[keep].reshape(shape),
        baseline=grade_j[keep].reshape(shape),
        weight=(weight_j[keep] / weight_j[keep].sum()).reshape(shape),
        mix=np.ones((1, 1)),
        log_tau_mean=mean_j[keep].reshape(shape),
        log_tau_sd=np.full(shape, max(spread, 1e-3)),
        onset_log_mean=terms.onset_log_mean[:1, None],
        **shared_fields(params),
    )
    return cohort, math.exp(float(terms.log_rel_dose[0]))
