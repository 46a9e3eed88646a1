r"""Personal forecasts: a patient's own follow-up scores update the model for their next treatment.

The patient carries two random effects, shared by all their treatments: sensitivity :math:`z_E` and a duration
effect :math:`z_b`, standard normal in the population. Each treatment *k* adds its own deviation
:math:`\varepsilon_k`:

.. math:: \log\tau_{k} = \mu_k + \sigma_b z_b + \sigma_w \varepsilon_k,\qquad
          \sigma_b^2 = \rho_{icc}\,\sigma_\tau^2,\ \sigma_w^2 = (1 - \rho_{icc})\,\sigma_\tau^2

so the population spread :math:`\sigma_\tau` is unchanged and :math:`\rho_{icc}` (``duration_icc``) says how much
of it repeats. Every follow-up score (severity 0-3 at maximal contraction, by the clinician or the patient) on
day *t* after treatment *k* has the likelihood of the rater model (:mod:`wearoff.model.cohort`):

.. math:: P(\text{severity} \le s) = P(\text{scored at least } B - s \text{ grades better} \mid \Delta(t))

with *B* the pre-treatment severity. A wear-off between two visits is thus interval-censored by the scores
themselves: the last visit with effect and the first back at baseline. The posterior of the patient's effects is

.. math:: p(z_E, z_b \mid \text{history}) \propto \phi(z_E)\,\phi(z_b)
          \prod_k \int \prod_{t} P(s_{kt} \mid z_E, z_b, \varepsilon)\,\phi(\varepsilon)\,d\varepsilon

(the inner integral by a 7-node Gauss-Hermite rule), integrated by the survival engine's adaptive Gauss-Hermite
quadrature (:func:`wearoff.survival.quadrature.adapt_to_posterior`): a 7 x 7 rule re-centred and re-scaled on each
patient's posterior moments. A fixed grid cannot follow a patient whose scores pin their sensitivity down (a
posterior narrower than the grid's spacing): against a dense grid, on 150 simulated patients
(``benchmarks/personal_quadrature.py``), the fixed 16 x 16 grid missed the posterior mean sensitivity by 0.081 on
average (0.31 at the 99th percentile, in prior standard deviations) and the adapted rule by 0.009 (0.036), in
less time. The next treatment's cohort carries the posterior (:func:`personal_cohort`). With
no scores the posterior is the prior and the forecast is the population's: one path for both.
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
    TreatmentTerms,
    baseline_mix,
    normal_cdf,
    shared_fields,
    standard_normal_nodes,
    treatment_terms,
)
from wearoff.model.parameters import Parameters
from wearoff.model.treatment import Treatment, covariates_for
from wearoff.survival.quadrature import PosteriorRule, adapt_to_posterior

N_POPULATION_EFFECT_NODES = 16
"""Sensitivity nodes of the prior: a patient with no scores is forecast as the population (its duration effect is
integrated in closed form by the cohort)."""
N_PATIENT_NODES = 7
"""Nodes a dimension of the adapted rule over the patient's two effects (49 points; see the module docstring for
its accuracy)."""
N_EPISODE_NODES = 7
"""Nodes of a treatment's own deviation (its forecast medians moved by 0.2 day on average with 21)."""
NODE_WEIGHT_FLOOR = 1e-9
"""Nodes of a forecast's cohort carrying less weight than this share are dropped (no quantile can feel them)."""
TREATMENT_NODE_SPREAD = 0.4
"""Where a treatment's own scores resolve its deviation on quadrature nodes, each node keeps this share of the
treatment-level spread, so the wear-off curve stays smooth between nodes."""
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
    """The patient's random effects as weighted points: sensitivity ``z_effect`` and duration ``z_duration`` of
    each point and its weight (summing to 1).

    The prior's points are the population's sensitivity nodes at duration effect 0: with nothing learnt the
    cohort integrates the duration effect in closed form (:func:`personal_cohort`)."""

    z_effect: np.ndarray
    z_duration: np.ndarray
    weights: np.ndarray = field(repr=False)
    episodes: int = 0
    observations: int = 0

    @classmethod
    def prior(cls) -> PatientPosterior:
        z_e, w_e = standard_normal_nodes(N_POPULATION_EFFECT_NODES)
        return cls(z_e, np.zeros_like(z_e), w_e)

    def mean_effect(self) -> float:
        """Posterior mean of the patient's sensitivity :math:`z_E` (0 for the population)."""
        return float(np.sum(self.weights * self.z_effect))

    def mean_duration_effect(self) -> float:
        """Posterior mean of the patient's duration effect :math:`z_b` (0 for the population)."""
        return float(np.sum(self.weights * self.z_duration))


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


@dataclass(frozen=True)
class ScoredEpisodes:
    """The parts of scored episodes' likelihood that do not depend on the patient's effects: the treatments'
    population terms, the observations (``first[k]:first[k + 1]`` are episode *k*'s) with their rows of the score
    tables, and the weights of each episode's untreated grades 1, 2, 3 (its own, or the trial mix)."""

    terms: TreatmentTerms
    first: np.ndarray
    days: np.ndarray
    table_row: np.ndarray
    grade_weights: np.ndarray

    @classmethod
    def of(cls, params: Parameters, episodes: list[Episode], catalog: Catalog | None) -> ScoredEpisodes:
        observations = [o for e in episodes for o in e.observations]
        rater_index = np.array([RATERS.index(RATER_CODES.get(o.rater, o.rater)) for o in observations], np.intp)
        grade_weights = np.zeros((len(episodes), 3))
        for k, episode in enumerate(episodes):
            grades, weights = baseline_mix(params, episode.treatment.baseline_severity)
            grade_weights[k, grades.astype(int) - 1] = weights
        return cls(
            terms=treatment_terms(params, covariates_for([e.treatment for e in episodes], params, catalog)),
            first=np.r_[0, np.cumsum([len(e.observations) for e in episodes])].astype(np.intp),
            days=np.array([o.day for o in observations], float),
            table_row=rater_index * 4 + np.array([o.severity for o in observations], np.intp),
            grade_weights=grade_weights,
        )


def episode_log_likelihoods(
    params: Parameters,
    scored: ScoredEpisodes,
    which: np.ndarray,
    z_effect: np.ndarray,
    z_duration: np.ndarray,
    *,
    per_treatment_node: bool = False,
) -> np.ndarray:
    """(k, M) log-likelihood of the scores of episodes ``which`` at their own points (k, M) of the patient's
    effects; with ``per_treatment_node``, (k, M, nEps): not integrated over the treatment's own deviation."""
    fields = shared_fields(params)
    optimism = tuple(fields["rater_optimism"][r] for r in RATERS)
    sd = tuple(fields["rater_sd"][r] for r in RATERS)
    sigma_b, sigma_w = duration_spreads(params)
    z_eps, w_eps = standard_normal_nodes(N_EPISODE_NODES)
    terms = scored.terms
    shape = z_effect.shape[1:] + ((N_EPISODE_NODES,) if per_treatment_node else ())
    out = np.empty((len(which), *shape))
    for start in range(0, len(which), EPISODE_CHUNK):
        chunk = which[start : start + EPISODE_CHUNK]
        part = slice(start, start + len(chunk))
        these = terms.take(chunk)
        peak = these.peak(z_effect[part])  # (k, M)
        tau = np.exp(these.log_tau_mean[:, None, None] + sigma_b * z_duration[part, :, None] + sigma_w * z_eps)
        counts = scored.first[chunk + 1] - scored.first[chunk]
        owner = np.repeat(np.arange(len(chunk)), counts)
        rows = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + scored.first[chunk][owner]
        # effect at each (observation, point of the patient's effects, treatment node)
        e = curve.effect(
            scored.days[rows, None, None],
            peak=peak[owner][:, :, None],
            onset_day=np.exp(these.onset_log_mean[owner])[:, None, None],
            tau=tau[owner],
            gamma=fields["gamma"],
            shape=fields["rise_shape"],
        )
        grade_weights = scored.grade_weights[chunk]
        like = np.zeros((len(chunk), *shape))
        for g in (1, 2, 3):
            kept_rows = grade_weights[owner, g - 1] > 0  # only the episodes that may start from this grade
            if not kept_rows.any():
                continue
            improvement = curve.improvement(e[kept_rows], np.asarray(float(g)), fields["visibility"])
            log_p = _interpolate_rows(
                log_score_table(float(g), optimism, sd), scored.table_row[rows[kept_rows]], improvement
            )
            kept = owner[kept_rows]
            starts = np.flatnonzero(np.r_[True, kept[1:] != kept[:-1]])
            per_episode = np.exp(np.add.reduceat(log_p, starts, axis=0))  # (episodes, M, nEps)
            if not per_treatment_node:
                per_episode = np.sum(per_episode * w_eps, axis=-1)
            which_here = kept[starts]
            like[which_here] += grade_weights[which_here, g - 1].reshape((-1,) + (1,) * len(shape)) * per_episode
        out[part] = np.log(np.maximum(like, 1e-300))
    return out


def _check(observation: Observation) -> None:
    if observation.rater not in RATER_CODES and observation.rater not in RATERS:
        raise ValueError(f"rater must be clinician or patient, not {observation.rater!r}")
    if observation.severity not in (0, 1, 2, 3):
        raise ValueError(f"severity must be 0, 1, 2 or 3, not {observation.severity!r}")


def _posterior_rule(
    params: Parameters, histories: list[list[Episode]], catalog: Catalog | None
) -> tuple[list[int], PosteriorRule | None]:
    """The patients with scores (their indices in ``histories``) and the adapted rule of their posteriors."""
    scored = [(i, e) for i, history in enumerate(histories) for e in history if e.observations]
    for _, episode in scored:
        for observation in episode.observations:
            _check(observation)
    if not scored:
        return [], None
    patients = sorted({i for i, _ in scored})
    group = np.searchsorted(patients, [i for i, _ in scored])  # non-decreasing: episodes come patient by patient
    data = ScoredEpisodes.of(params, [e for _, e in scored], catalog)

    def log_likelihood(points: np.ndarray, groups: np.ndarray) -> np.ndarray:
        which = np.flatnonzero(np.isin(group, groups))
        position = np.searchsorted(groups, group[which])
        per_episode = episode_log_likelihoods(params, data, which, points[position, :, 0], points[position, :, 1])
        starts = np.flatnonzero(np.r_[True, position[1:] != position[:-1]])
        total = np.zeros(points.shape[:2])
        total[position[starts]] = np.add.reduceat(per_episode, starts, axis=0)
        return total

    return patients, adapt_to_posterior(log_likelihood, len(patients), 2, N_PATIENT_NODES)


def patient_posteriors(
    params: Parameters, histories: list[list[Episode]], catalog: Catalog | None = None
) -> list[PatientPosterior]:
    """The posterior of each patient's random effects given their earlier treatments and scores (batched; the
    patients with scores share one run of the adaptive quadrature)."""
    out = [PatientPosterior.prior()] * len(histories)
    patients, rule = _posterior_rule(params, histories, catalog)
    for g, i in enumerate(patients):
        history = histories[i]
        out[i] = PatientPosterior(
            rule.points[g, :, 0],  # type: ignore[union-attr]
            rule.points[g, :, 1],  # type: ignore[union-attr]
            rule.weights[g],  # type: ignore[union-attr]
            len(history),
            sum(len(e.observations) for e in history),
        )
    return out


def marginal_log_likelihood(
    params: Parameters, histories: list[list[Episode]], catalog: Catalog | None = None
) -> float:
    r"""The marginal log-likelihood of every patient's scores, :math:`\sum_i \log\int\phi_2(z)\prod_k\int
    \prod_t P(s_{kt} \mid z, \varepsilon)\,\phi(\varepsilon)\,d\varepsilon\,dz` (the adapted rule's log
    marginal; patients without scores add 0)."""
    _, rule = _posterior_rule(params, histories, catalog)
    return 0.0 if rule is None else float(rule.log_marginal.sum())


def patient_posterior(
    params: Parameters, episodes: list[Episode] | tuple[Episode, ...], catalog: Catalog | None = None
) -> PatientPosterior:
    """The posterior of a patient's random effects given their earlier treatments and scores."""
    return patient_posteriors(params, [list(episodes)], catalog)[0]


def current_log_likelihoods(
    params: Parameters,
    currents: list[Episode],
    posteriors: list[PatientPosterior],
    catalog: Catalog | None = None,
) -> list[np.ndarray]:
    """(M, nEps) log-likelihood of each treatment's own scores at the points of its patient's posterior (which
    includes them) and the nodes of the treatment's own deviation (batched; see :func:`personal_cohort`)."""
    if not currents:
        return []
    if any(p.observations == 0 for p in posteriors):
        raise ValueError("a treatment's own scores must be part of the history its patient's posterior was given")
    data = ScoredEpisodes.of(params, currents, catalog)
    # every scored posterior has the points of the adapted rule (N_PATIENT_NODES ** 2): they stack
    z_effect = np.stack([p.z_effect for p in posteriors])
    z_duration = np.stack([p.z_duration for p in posteriors])
    which = np.arange(len(currents))
    return list(episode_log_likelihoods(params, data, which, z_effect, z_duration, per_treatment_node=True))


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
    peak = terms.peak(posterior.z_effect)[0]  # (M,)
    sigma_b, sigma_w = duration_spreads(params)
    grades, w_grades = baseline_mix(params, treatment.baseline_severity)
    weights = posterior.weights[:, None]  # (M, 1)
    learning = current is not None and bool(current.observations)
    if posterior.observations == 0:
        # nothing learnt about the patient: their duration effect is integrated analytically,
        # sigma_b z_b + sigma_w eps ~ N(0, sigma_b^2 + sigma_w^2), at every sensitivity node
        log_tau = np.full((posterior.weights.size, 1), terms.log_tau_mean[0])
        spread = math.hypot(sigma_b, sigma_w)
    else:
        log_tau = (terms.log_tau_mean[0] + sigma_b * posterior.z_duration)[:, None]
        spread = sigma_w
    if learning:
        z_eps, w_eps = standard_normal_nodes(N_EPISODE_NODES)
        log_l = current_log_likelihood  # (M, nEps)
        if log_l is None:
            log_l = current_log_likelihoods(params, [current], [posterior], catalog)[0]
        log_integrated = np.log(np.sum(np.exp(log_l) * w_eps, axis=-1, keepdims=True))
        log_w = np.log(np.maximum(weights, 1e-300)) - log_integrated + log_l + np.log(w_eps)
        weights = np.exp(log_w - log_w.max())
        log_tau = log_tau + sigma_w * z_eps[None, :]
        spread = sigma_w * TREATMENT_NODE_SPREAD
    n_k, n_g = weights.shape[-1], len(grades)
    full = (len(peak), n_k, n_g)
    peak_j = np.broadcast_to(peak[:, None, None], full).ravel()
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
