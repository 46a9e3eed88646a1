r"""Cohorts: groups of patients who share a treatment's covariates but differ by their random effects.

A :class:`Cohorts` object is a batch of *A* groups (trial arms, patients, treatments), each a mix of *S*
covariate patterns (women and men of an arm; one pattern for a patient) over *J* quadrature nodes of the
random effects. Every method is vectorised over the batch: one forecast and ten thousand go the same way.

Random effects are integrated by Gauss-Hermite quadrature (deterministic and smooth in the parameters):
sensitivity :math:`z_E` and the baseline grade *B* (2 or 3) make the node axis *J*; the duration effect
:math:`z_\tau` and the onset effect :math:`z_{on}` are integrated analytically where the formula allows and by
quadrature otherwise. Raters add noise, integrated analytically, and a share :math:`\pi_r` of ratings is
optimistic by one grade (placebo arms: patients score improvements with no toxin). On a scale whose grade is *g*
grades of the 4-point scale (:func:`grade_size`: 1, or 3/4 on a 5-point scale),

.. math:: P(\text{scored} \ge k \text{ better})
          = (1 - \pi_r)\,\Phi\Big(\frac{\Delta(t) - g(k - \tfrac12)}{s_r}\Big)
          + \pi_r\,\Phi\Big(\frac{\Delta(t) + g - g(k - \tfrac12)}{s_r}\Big)

Given the other effects, :math:`\log W` is normal (the AFT structure of :mod:`wearoff.model.curve`), so

.. math:: P(W > m,\ \text{responder}) = \sum_j w_j\,\Phi\Big(\frac{\mu_j + c_j - \log m}{s_j}\Big),
          \quad c_j = \tfrac1\gamma \log\ln\big(E_{max,j} / e_{B_j}\big)

with :math:`\mu_j, s_j` the mean and sd of :math:`\log\tau` at node *j*: the population's, or a patient's
posterior. Quantiles are the roots of these mixtures (:func:`mixture_survival_roots`), smooth in the parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import Literal

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import erfc, expit, logit, ndtri

from wearoff.model import curve
from wearoff.model.parameters import Parameters
from wearoff.model.treatment import Covariates

N_EFFECT_NODES = 24
N_TAU_NODES = 12
N_ONSET_NODES = 7
RATERS = ("inv", "subj")
BAND_TAU_NODES = 5
BAND_ONSET_NODES = 3
BAND_NODE_FLOOR = 1e-6
LOG_DAY_RANGE = (float(np.log(0.25)), float(np.log(5000.0)))
"""Log days within which quantiles are sought: from six hours (before any onset) to 5,000 days (past any wear-off)."""
RESPONSE_DAY = 30.0
"""Day at which trials count their responders (the primary visit of the glabellar registration trials, when
responder rates peak: ``shared/evidence/README.md``, "responder rates peak around day 14-30"). Trial durations
(Kaplan-Meier curves, medians of duration) follow the patients above the threshold on that day. Conditioning on
an early day instead would count patients whose peak barely clears the threshold as responders lasting hours:
their weight enters and leaves the denominator in a jump as the parameters move, which stalls calibration."""

Threshold = Literal["baseline", "none_mild"]


SQRT_HALF = np.sqrt(0.5)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    r""":math:`\Phi(x) = \tfrac12\,\mathrm{erfc}(-x/\sqrt2)`: as accurate as ``scipy.special.ndtr`` in both tails
    and about twice as fast, which counts in the quadratures of many patients."""
    return 0.5 * erfc(-SQRT_HALF * np.asarray(x))


@cache
def standard_normal_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (summing to 1) integrating against the standard normal density."""
    z, w = hermegauss(n)
    return z, w / w.sum()


def product_normal_nodes(n: int, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """(n**dims, dims) nodes and (n**dims,) weights (summing to 1) of the product rule integrating against the
    standard normal density in ``dims`` dimensions, :func:`standard_normal_nodes` in each."""
    z, w = standard_normal_nodes(n)
    grid = np.stack(np.meshgrid(*[z] * dims, indexing="ij"), axis=-1).reshape(-1, dims)
    weights = np.prod(np.stack(np.meshgrid(*[w] * dims, indexing="ij"), axis=-1), axis=-1).ravel()
    return grid, weights


def mixture_survival(v: np.ndarray, mu: np.ndarray, sd: np.ndarray, x: np.ndarray) -> np.ndarray:
    r"""(A, Q) :math:`S(x) = \sum_{s,j} v_{sj}\,\Phi\big((\mu_{sj} - x)/\sigma_{sj}\big)` for log days *x* (A, Q),
    with mixture weights *v* and log-normal locations and scales (A, S, J)."""
    z = (mu[:, None] - x[:, :, None, None]) / sd[:, None]
    return np.sum(v[:, None] * normal_cdf(z), axis=(2, 3))


ROOT_TOLERANCE = 1e-7
"""Absolute tolerance (log days, so relative in days) of :func:`mixture_survival_roots`: 1e-7 of a 120-day
wear-off is about a second, far below the one-decimal days forecasts print."""
ROOT_MAX_STEPS = 60


def mixture_survival_roots(v: np.ndarray, mu: np.ndarray, sd: np.ndarray, targets: np.ndarray) -> np.ndarray:
    r"""(A, Q) log days *x* where the mixture survival :func:`mixture_survival` falls to each target (A, Q),
    within :data:`LOG_DAY_RANGE` (a target above the curve at its first day gives the first day, one below it at
    its last day the last).

    Safeguarded Newton: the step :math:`x - (S(x) - t)/S'(x)`, with
    :math:`S'(x) = -\sum v\,\varphi(z)/\sigma`, is taken when it stays inside the bracket that is known to hold
    the root, and bisection otherwise, so it converges from any start. The bracket starts between the
    components' own quantiles; in small problems it is narrowed by one scan (:func:`_narrow_bracket`) and the
    first step is the secant there, otherwise its middle: three to six steps reach :data:`ROOT_TOLERANCE` where a
    tabulated curve would need hundreds of points.
    """
    first, last = LOG_DAY_RANGE
    # the root lies between the components' own quantiles at the same share of their mass: below all of them
    # every component is above its share of the target, above all of them below it
    total = np.maximum(np.sum(v, axis=(1, 2)), 1e-300)
    share = np.clip(targets / total[:, None], 1e-12, 1.0 - 1e-12)  # (A, Q)
    component = mu[:, None] - sd[:, None] * ndtri(share)[:, :, None, None]  # (A, Q, S, J)
    present = (v > 0)[:, None]
    lo = np.clip(np.min(np.where(present, component, np.inf), axis=(2, 3)), first, last)
    hi = np.clip(np.max(np.where(present, component, -np.inf), axis=(2, 3)), first, last)
    ends = mixture_survival(v, mu, sd, np.stack([np.full(len(v), first), np.full(len(v), last)], axis=1))
    before, after = targets >= ends[:, :1], targets <= ends[:, 1:]
    if v.size * targets.shape[1] * SCAN_POINTS <= SCAN_MAX_ELEMENTS:
        lo, hi, x = _narrow_bracket(v, mu, sd, targets, lo, hi)
    else:
        x = 0.5 * (lo + hi)
    x = np.where(before, first, np.where(after, last, x))
    active = ~(before | after)
    for _ in range(ROOT_MAX_STEPS):
        a, qi = np.nonzero(active)
        if a.size == 0:
            break
        z = (mu[a] - x[a, qi][:, None, None]) / sd[a]
        gap = np.sum(v[a] * normal_cdf(z), axis=(1, 2)) - targets[a, qi]
        slope = -np.sum(v[a] * np.exp(-0.5 * z * z) / sd[a], axis=(1, 2)) / np.sqrt(2.0 * np.pi)
        above = gap > 0  # survival still above the target: the root lies later
        lo[a, qi] = np.where(above, x[a, qi], lo[a, qi])
        hi[a, qi] = np.where(above, hi[a, qi], x[a, qi])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton = x[a, qi] - gap / slope
        inside = np.isfinite(newton) & (newton > lo[a, qi]) & (newton < hi[a, qi])
        step = np.where(inside, newton, 0.5 * (lo[a, qi] + hi[a, qi]))
        done = (np.abs(step - x[a, qi]) < ROOT_TOLERANCE) | (hi[a, qi] - lo[a, qi] < ROOT_TOLERANCE)
        x[a, qi] = step
        active[a[done], qi[done]] = False
    return x


SCAN_POINTS = 9
"""Points at which :func:`_narrow_bracket` evaluates the survival inside each bracket (one vectorised pass)."""
SCAN_MAX_ELEMENTS = 50_000
"""Largest scan (groups x targets x points x nodes) worth its arithmetic: it saves turns of the Newton loop, which
cost more than their arithmetic in small problems (one forecast) and less in large ones (a batch of patients with
their posterior nodes), where the loop starts from the middle of the bracket instead."""


def _narrow_bracket(
    v: np.ndarray, mu: np.ndarray, sd: np.ndarray, targets: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A bracket :data:`SCAN_POINTS` - 1 times narrower around each root, and a start inside it: the survival at
    evenly spaced points of ``[lo, hi]`` (A, Q), the pair of neighbours it falls between, and the secant between
    them. Newton then needs about three steps instead of six (the loop, not the arithmetic, costs)."""
    grid = lo[..., None] + (hi - lo)[..., None] * np.linspace(0.0, 1.0, SCAN_POINTS)  # (A, Q, K)
    z = (mu[:, None, None] - grid[..., None, None]) / sd[:, None, None]
    gap = np.sum(v[:, None, None] * normal_cdf(z), axis=(3, 4)) - targets[..., None]  # decreasing along K
    # the first point at or past the root (the last interval if rounding leaves every point short of it)
    k = np.clip(np.sum(gap > 0.0, axis=-1), 1, SCAN_POINTS - 1)[..., None]
    x0, x1 = np.take_along_axis(grid, k - 1, axis=-1)[..., 0], np.take_along_axis(grid, k, axis=-1)[..., 0]
    g0, g1 = np.take_along_axis(gap, k - 1, axis=-1)[..., 0], np.take_along_axis(gap, k, axis=-1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        start = np.where(g0 > g1, x0 + g0 / (g0 - g1) * (x1 - x0), 0.5 * (x0 + x1))
    return x0, x1, np.clip(start, x0, x1)


@dataclass(frozen=True)
class QuantileProblem:
    """Where mixture survivals (weights, locations, scales (A, S, J)) fall to targets (A, Q), and how the days
    found become the answer (``finish``: non-responders, undefined quantiles)."""

    v: np.ndarray
    mu: np.ndarray
    sd: np.ndarray
    targets: np.ndarray
    finish: Callable[[np.ndarray], np.ndarray]


def solve_quantiles(problems: list[QuantileProblem]) -> list[np.ndarray]:
    """Solve problems with the same node axes in one pass of :func:`mixture_survival_roots` (their groups stacked,
    their targets padded to the longest), and finish each: the days (A, Q) of every problem."""
    width = max(p.targets.shape[1] for p in problems)
    targets = np.concatenate(
        [np.pad(p.targets, [(0, 0), (0, width - p.targets.shape[1])], mode="edge") for p in problems]
    )
    days = np.exp(
        mixture_survival_roots(
            np.concatenate([p.v for p in problems]),
            np.concatenate([p.mu for p in problems]),
            np.concatenate([np.broadcast_to(p.sd, p.mu.shape) for p in problems]),
            targets,
        )
    )
    out, start = [], 0
    for p in problems:
        rows, cols = p.targets.shape
        out.append(p.finish(days[start : start + rows, :cols]))
        start += rows
    return out


def _interpolate_rows(xp: np.ndarray, fp: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(D, Q) ``np.interp(x, xp[i], fp[i])`` for every row *i* of increasing ``xp`` (D, N), vectorised."""
    counts = np.stack([np.count_nonzero(xp < value, axis=1) for value in x], axis=1)  # (D, Q)
    right = np.clip(counts, 1, xp.shape[1] - 1)
    left = right - 1
    x0, x1 = np.take_along_axis(xp, left, axis=1), np.take_along_axis(xp, right, axis=1)
    f0, f1 = np.take_along_axis(fp, left, axis=1), np.take_along_axis(fp, right, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip(np.where(x1 > x0, (x[None, :] - x0) / (x1 - x0), 1.0), 0.0, 1.0)
    return f0 + t * (f1 - f0)


def _days(days: np.ndarray | float, batch: int) -> np.ndarray:
    """Days as an (A, D) array: a scalar or a (D,) array is shared by the batch; pass (A, D) for days that
    differ between groups."""
    d = np.asarray(days, float)
    if d.ndim <= 1:
        return np.broadcast_to(np.atleast_1d(d), (batch, d.size))
    return d


@dataclass(frozen=True)
class Cohorts:
    """A batch of A groups, each a mix of S covariate patterns, over J random-effect nodes.

    Arrays are (A, S, J) unless stated; ``weight`` sums to 1 over J and ``mix`` (A, S) to 1 over S.
    """

    peak: np.ndarray
    baseline: np.ndarray
    weight: np.ndarray
    mix: np.ndarray
    log_tau_mean: np.ndarray
    log_tau_sd: np.ndarray
    onset_log_mean: np.ndarray  # (A, S)
    onset_log_sd: float
    gamma: float
    rise_shape: float
    visibility: float
    rater_optimism: dict[str, float]
    rater_sd: dict[str, float]
    responder_share: np.ndarray | None = None  # (A, S) analytic P(improvement ever > half a grade), population
    grade: np.ndarray | None = None
    """(A,) size of one grade of the scale each group is rated on, in grades of the 4-point scale (None: all 1;
    see :func:`grade_size`)."""

    @property
    def size(self) -> int:
        return self.peak.shape[0]

    def take(self, index: np.ndarray) -> Cohorts:
        """The groups at these batch positions (repeats allowed)."""
        index = np.asarray(index, int)
        share = None if self.responder_share is None else self.responder_share[index]
        return replace(
            self,
            peak=self.peak[index],
            baseline=self.baseline[index],
            weight=self.weight[index],
            mix=self.mix[index],
            log_tau_mean=self.log_tau_mean[index],
            log_tau_sd=self.log_tau_sd[index],
            onset_log_mean=self.onset_log_mean[index],
            responder_share=share,
            grade=None if self.grade is None else self.grade[index],
        )

    def restricted(self, keep: np.ndarray) -> Cohorts:
        """The same groups restricted to the nodes where ``keep`` (A, S, J) holds, weights renormalised."""
        weight = self.weight * keep
        total = weight.sum(axis=-1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            weight = np.where(total > 0, weight / total, 0.0)
        return replace(self, weight=weight, responder_share=None)

    def reaching(self, threshold: Threshold) -> Cohorts:
        """Only the patients whose improvement ever exceeds the threshold (e.g. who reach none/mild)."""
        return self.restricted(self.peak > self._effect_levels(threshold))

    # --- responders and wear-off --------------------------------------------------------------------------
    def _grade(self) -> np.ndarray:
        """(A, 1, 1) size of a rated grade in grades of the 4-point scale (see :func:`grade_size`)."""
        grade = np.ones(self.size) if self.grade is None else self.grade
        return grade[:, None, None]

    def levels(self, threshold: Threshold) -> np.ndarray:
        """Improvement (4-point grades) a patient keeps above: half a rated grade *g* (not back at baseline), or
        :math:`B - 1.5g` (still rated none or mild)."""
        if threshold == "baseline":
            return np.broadcast_to(curve.HALF_GRADE * self._grade(), self.baseline.shape)
        return self.baseline - 1.5 * self._grade()

    def _effect_levels(self, threshold: Threshold) -> np.ndarray:
        """Effect (share of pull removed) at which the improvement equals the threshold's level."""
        return curve.effect_needed(self.levels(threshold), self.baseline, self.visibility)

    def _responders_by_pattern(self, threshold: Threshold) -> np.ndarray:
        if self.responder_share is not None and threshold == "baseline":
            return self.responder_share
        return np.sum(self.weight * (self.peak > self._effect_levels(threshold)), axis=-1)

    def responders(self, threshold: Threshold = "baseline") -> np.ndarray:
        """(A,) share of patients whose improvement ever exceeds the threshold."""
        return np.sum(self.mix * self._responders_by_pattern(threshold), axis=-1)

    def _crossing(self, threshold: Threshold) -> np.ndarray:
        return curve.log_crossing_factor(self.peak, self._effect_levels(threshold), self.gamma)

    def survival(self, days, threshold: Threshold = "baseline", *, among_responders: bool = True) -> np.ndarray:
        """(A, D) P(improvement still above the threshold): the wear-off curve.

        Among responders (trial endpoints), the curve follows the patients above the threshold on
        :data:`RESPONSE_DAY`, normalised by their mass (1 on that day; days before it are clipped to 1). Over all
        patients (forecasts), a patient who never responds counts as worn off on day 0, which keeps the curve
        monotone in the dose.
        """
        d = _days(days, self.size)
        if not among_responders:
            return np.clip(self._survival_mass(d, threshold), 0.0, 1.0)
        first = np.full((self.size, 1), RESPONSE_DAY)
        mass = self._survival_mass(np.concatenate([first, d], axis=1), threshold)
        share, mass = mass[:, :1], mass[:, 1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(share > 0, np.clip(mass / share, 0.0, 1.0), 0.0)

    def _survival_mass(self, d: np.ndarray, threshold: Threshold) -> np.ndarray:
        """(A, D) P(responder and improvement above the threshold on each day), days given as (A, D)."""
        with np.errstate(divide="ignore"):
            return mixture_survival(*self._mixture(threshold), np.log(d))

    def _mixture(self, threshold: Threshold) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The wear-off survival as a mixture (weights, locations, scales of log days; (A, S, J)): nodes that never
        reach the threshold get weight 0."""
        v = self.mix[:, :, None] * self.weight
        mu = self.log_tau_mean + self._crossing(threshold)
        reached = np.isfinite(mu)
        return np.where(reached, v, 0.0), np.where(reached, mu, 0.0), np.broadcast_to(self.log_tau_sd, mu.shape)

    def quantile(self, q, threshold: Threshold = "baseline", *, among_responders: bool = True) -> np.ndarray:
        """(A, Q) days by which shares *q* of patients have fallen below the threshold (see :meth:`survival`);
        over all patients, a quantile that falls among non-responders is day 0. Solved on the mixture itself
        (:func:`mixture_survival_roots`), within the days of :data:`LOG_DAY_RANGE`."""
        return solve_quantiles([self.quantile_problem(q, threshold, among_responders=among_responders)])[0]

    def quantile_problem(
        self, q, threshold: Threshold = "baseline", *, among_responders: bool = True
    ) -> QuantileProblem:
        """The root-finding problem of :meth:`quantile`, to be solved together with others by
        :func:`solve_quantiles`."""
        v, mu, sd = self._mixture(threshold)
        targets = 1.0 - np.atleast_1d(np.asarray(q, float))
        if among_responders:
            held = mixture_survival(v, mu, sd, np.full((self.size, 1), np.log(RESPONSE_DAY)))  # (A, 1)
            return QuantileProblem(v, mu, sd, targets[None, :] * held, lambda days: np.where(held > 0, days, np.nan))
        first = mixture_survival(v, mu, sd, np.full((self.size, 1), LOG_DAY_RANGE[0]))  # (A, 1)
        return QuantileProblem(
            v,
            mu,
            sd,
            np.broadcast_to(targets, (self.size, targets.size)),
            lambda days: np.where(first <= targets[None, :], 0.0, days),
        )

    def mean_duration(self, threshold: Threshold = "baseline") -> np.ndarray:
        """(A,) mean day of wear-off among responders (lognormal tau integrated analytically)."""
        c = self._crossing(threshold)
        with np.errstate(invalid="ignore", over="ignore"):
            terms = np.exp(self.log_tau_mean + c + 0.5 * self.log_tau_sd**2)
        terms = np.where(np.isfinite(terms), terms, 0.0)
        mass = np.sum(self.mix * np.sum(self.weight * terms, axis=-1), axis=-1)
        share = self.responders(threshold)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(share > 0, mass / share, np.nan)

    def median_loss_of_peak(self, share_lost: float) -> np.ndarray:
        r"""(A,) median day the effect has lost ``share_lost`` of its own peak: :math:`\tau(-\ln(1-s))^{1/\gamma}`,
        solved on its log-normal mixture (:func:`mixture_survival_roots`: smooth in the parameters)."""
        offset = np.log(-np.log1p(-share_lost)) / self.gamma
        v = self.mix[:, :, None] * self.weight
        mu = self.log_tau_mean + offset
        return np.exp(
            mixture_survival_roots(v, mu, np.broadcast_to(self.log_tau_sd, mu.shape), np.full((self.size, 1), 0.5))
        )[:, 0]

    def mean_loss_of_peak(self, share_lost: float) -> np.ndarray:
        r"""(A,) mean day the effect has lost ``share_lost`` of its own peak: :math:`E[\tau](-\ln(1-s))^{1/\gamma}`
        over all patients (the day does not depend on the peak's height, so, as in :meth:`median_loss_of_peak`, no
        patient is left out for a peak too low)."""
        offset = np.log(-np.log1p(-share_lost)) / self.gamma
        with np.errstate(over="ignore", invalid="ignore"):
            days = np.exp(self.log_tau_mean + offset + 0.5 * self.log_tau_sd**2)
        w = self.mix[:, :, None] * self.weight
        return np.sum(w * np.where(np.isfinite(days), days, 0.0), axis=(1, 2)) / np.sum(w, axis=(1, 2))

    # --- onset -----------------------------------------------------------------------------------------------
    def onset_cdf(self, days) -> np.ndarray:
        """(A, D) P(responder and the effect has begun by the day)."""
        d = _days(days, self.size)
        with np.errstate(divide="ignore"):
            z = (np.log(d)[:, :, None] - self.onset_log_mean[:, None, :]) / self.onset_log_sd
        resp = self.mix * self._responders_by_pattern("baseline")
        return np.sum(resp[:, None, :] * normal_cdf(z), axis=-1)

    def median_onset(self) -> np.ndarray:
        """(A,) median onset day among responders: the root of their log-normal mixture of onset days (each
        covariate pattern weighted by its responders), smooth in the parameters."""
        resp = self.mix * self._responders_by_pattern("baseline")  # (A, S)
        share = resp.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(share[:, None] > 0, resp / share[:, None], 0.0)[..., None]
        mu = self.onset_log_mean[..., None]
        days = np.exp(mixture_survival_roots(v, mu, np.full(mu.shape, self.onset_log_sd), np.full((self.size, 1), 0.5)))
        return np.where(share > 0, days[:, 0], np.nan)

    # --- the time course and rated endpoints ----------------------------------------------------------------
    def _integrate(
        self,
        days,
        integrand: Callable[[np.ndarray], np.ndarray],
        raw_effect: bool = False,
        nodes: tuple[int, int] = (N_TAU_NODES, N_ONSET_NODES),
    ) -> np.ndarray:
        """(A, D) cohort average of ``integrand(improvement)``, the improvement in grades at every node;
        ``nodes`` gives the quadrature rules of the treatment-level duration and onset effects."""
        d = _days(days, self.size)
        z_tau, w_tau = standard_normal_nodes(nodes[0])
        z_on, w_on = standard_normal_nodes(nodes[1])
        # axes: (A, D, S, J, K tau nodes, L onset nodes)
        tau = np.exp(self.log_tau_mean[..., None] + self.log_tau_sd[..., None] * z_tau)[:, None, :, :, :, None]
        onset = np.exp(self.onset_log_mean[..., None] + self.onset_log_sd * z_on)[:, None, :, None, None, :]
        t = d[:, :, None, None, None, None]
        e = curve.effect(
            t,
            peak=self.peak[:, None, :, :, None, None],
            onset_day=onset,
            tau=tau,
            gamma=self.gamma,
            shape=self.rise_shape,
        )
        if raw_effect:
            values = integrand(e)
        else:
            values = integrand(curve.improvement(e, self.baseline[:, None, :, :, None, None], self.visibility))
        w = (self.mix[:, :, None] * self.weight)[:, None, :, :, None, None] * w_tau[:, None] * w_on
        return np.sum(w * values, axis=(2, 3, 4, 5))

    def _scored(
        self, rater: str, improvement: np.ndarray, boundary: np.ndarray | float, grade: np.ndarray
    ) -> np.ndarray:
        """P(the rater scores an improvement past ``boundary`` (4-point grades)): an optimistic share scores one
        rated grade (``grade``) above the truth, every rating carries normal noise (see the module docstring)."""
        sd, optimism = self.rater_sd[rater], self.rater_optimism[rater]
        honest = normal_cdf((improvement - boundary) / sd)
        hopeful = normal_cdf((improvement + grade - boundary) / sd)
        return (1.0 - optimism) * honest + optimism * hopeful

    def _boundary(self, grades: float, none_or_mild: bool) -> np.ndarray:
        r"""(A, 1, S, J, 1, 1) improvement (4-point grades) past which a rater scores ``grades`` rated grades better
        (:math:`g(k - \tfrac12)`) or, with ``none_or_mild``, severity 0 or 1 (:math:`B - 1.5g`)."""
        g = self._grade()
        boundary = self.baseline - 1.5 * g if none_or_mild else np.broadcast_to(g * (grades - 0.5), self.baseline.shape)
        return boundary[:, None, :, :, None, None]

    def rated_share(
        self,
        days,
        rater: str,
        grades: float,
        *,
        none_or_mild: bool = False,
        nodes: tuple[int, int] = (N_TAU_NODES, N_ONSET_NODES),
    ) -> np.ndarray:
        """(A, D) share a rater scores at least ``grades`` better (or, with ``none_or_mild``, at most 1)."""
        boundary, g = self._boundary(grades, none_or_mild), self._grade()[:, None, :, :, None, None]
        return self._integrate(days, lambda imp: self._scored(rater, imp, boundary, g), nodes=nodes)

    def composite_share(self, days, grades: float = 2.0) -> np.ndarray:
        """(A, D) share scored at least ``grades`` better by both investigator and patient."""
        boundary, g = self._boundary(grades, False), self._grade()[:, None, :, :, None, None]
        return self._integrate(
            days, lambda imp: self._scored("inv", imp, boundary, g) * self._scored("subj", imp, boundary, g)
        )

    def effect_quantiles(self, days, q) -> np.ndarray:
        """(A, D, Q) quantiles of the effect (0..1) between patients at each day: the band of a curve.

        Weighted quantiles over the quadrature nodes: nodes that differ only in their untreated grade (the effect
        does not depend on it) are merged, merged nodes carrying less than ``BAND_NODE_FLOOR`` of the weight are
        left out, and the treatment-level effects use coarser rules (:data:`BAND_TAU_NODES`,
        :data:`BAND_ONSET_NODES`): a picture's band needs no more.
        """
        d = _days(days, self.size)
        q = np.atleast_1d(np.asarray(q, float))
        z_tau, w_tau = standard_normal_nodes(BAND_TAU_NODES)
        z_on, w_on = standard_normal_nodes(BAND_ONSET_NODES)
        out = np.empty((self.size, d.shape[1], q.size))
        for a in range(self.size):
            w_j = (self.mix[a][:, None] * self.weight[a]).ravel()
            onset_mean = np.broadcast_to(self.onset_log_mean[a][:, None], self.peak[a].shape).ravel()
            nodes = np.stack(
                [self.peak[a].ravel(), self.log_tau_mean[a].ravel(), self.log_tau_sd[a].ravel(), onset_mean], axis=1
            )
            nodes, which = np.unique(nodes, axis=0, return_inverse=True)  # merged first, then the floor
            w_j = np.bincount(which.ravel(), weights=w_j, minlength=len(nodes))
            keep = w_j > BAND_NODE_FLOOR * w_j.max()
            peak, log_tau_mean, log_tau_sd, onset_mean = nodes[keep].T
            w_j = w_j[keep]
            tau = np.exp(log_tau_mean[:, None] + log_tau_sd[:, None] * z_tau)
            onset = np.exp(onset_mean[:, None] + self.onset_log_sd * z_on)
            e = curve.effect(
                d[a][:, None, None, None],
                peak=peak[None, :, None, None],
                onset_day=onset[None, :, None, :],
                tau=tau[None, :, :, None],
                gamma=self.gamma,
                shape=self.rise_shape,
            ).reshape(d.shape[1], -1)
            w = (w_j[:, None, None] * w_tau[:, None] * w_on).ravel()
            order = np.argsort(e, axis=-1)
            cum = np.cumsum(w[order], axis=-1)
            cum /= cum[:, -1:]
            e_sorted = np.take_along_axis(e, order, axis=-1)
            out[a] = _interpolate_rows(cum, e_sorted, q)
        return out

    def peak_day_quantiles(self, q, horizon: float = 120.0) -> np.ndarray:
        """(A, Q) quantiles between patients of the day their effect peaks (onset rise against decay)."""
        days = np.arange(1.0, horizon + 1.0)
        z_tau, w_tau = standard_normal_nodes(N_TAU_NODES)
        z_on, w_on = standard_normal_nodes(N_ONSET_NODES)
        # the peak day does not depend on the peak's height: integrate over tau and onset nodes only
        log_tau = np.sum(self.mix[:, :, None] * self.weight * self.log_tau_mean, axis=(1, 2))
        sd = np.sum(self.mix[:, :, None] * self.weight * self.log_tau_sd, axis=(1, 2))
        onset_mean = np.sum(self.mix * self.onset_log_mean, axis=1)
        tau = np.exp(log_tau[:, None] + sd[:, None] * z_tau)[:, :, None, None]
        onset = np.exp(onset_mean[:, None] + self.onset_log_sd * z_on)[:, None, :, None]
        shape = curve.rise(days, onset, self.rise_shape) * curve.decay(days, tau, self.gamma)
        peak_day = days[np.argmax(shape, axis=-1)]  # (A, K, L)
        w = np.outer(w_tau, w_on).ravel()
        q = np.atleast_1d(np.asarray(q, float))
        out = np.empty((self.size, q.size))
        for a in range(self.size):
            order = np.argsort(peak_day[a].ravel())
            cum = np.cumsum(w[order])
            out[a] = peak_day[a].ravel()[order][np.minimum(np.searchsorted(cum, q), len(order) - 1)]
        return out

    def mean_effect(self, days) -> np.ndarray:
        """(A, D) mean effect (0..1) over the cohort."""
        return self._integrate(days, lambda e: e, raw_effect=True)


SCALE_POINTS = (4, 5)
"""Severity scales the model reads: the 4-point facial wrinkle scale (0 none to 3 severe) and the 5-point scales
(0 none to 4 very severe, e.g. Merz's) that some trials use (``shared/evidence/README.md``: "unless the note says
a 5-point scale")."""


def grade_size(scale_points: int) -> float:
    r"""Size of one grade of a severity scale with this many points, in grades of the 4-point scale.

    Both scales span the same range, from no lines to the worst the scale names, in :math:`p - 1` steps, so a
    grade of a *p*-point scale is :math:`3/(p - 1)` 4-point grades (3/4 for a 5-point scale). A trial rated on
    a finer scale counts an improvement of *k* grades, a return to baseline (less than half a grade) and a
    rating of none or mild at these smaller steps. Three assumptions (weak: no trial in the evidence rates the
    same patients on both scales): such trials enrol the same patients as the others (moderate or severe lines,
    grades 2 and 3 of the 4-point scale, so 2.7 and 4 on a 5-point one); a rater's noise is a misjudgement of
    the lines themselves, the same on either scale; an optimistic rater scores one grade of the scale in hand.
    Were the patients enrolled milder instead (grades 2 and 3 of the 5-point scale) and the noise scaled with
    the grade, the 5-point predictions would equal the 4-point ones.
    """
    if scale_points not in SCALE_POINTS:
        raise ValueError(f"a severity scale has {' or '.join(map(str, SCALE_POINTS))} points, not {scale_points}")
    return 3.0 / (scale_points - 1)


def baseline_mix(params: Parameters, baseline_severity: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Baseline grades and weights: the patient's own, or the trial mix of moderate (2) and severe (3)."""
    if baseline_severity is not None:
        return np.array([float(baseline_severity)]), np.array([1.0])
    p3 = params["p_severe"]
    return np.array([2.0, 3.0]), np.array([1.0 - p3, p3])


def stack_cohorts(cohorts: list[Cohorts]) -> Cohorts:
    """One batch of single-group cohorts that share their fields (one parameter set) and their number of
    covariate patterns.

    Node axes of different lengths are padded with nodes of zero weight (and no effect), which no method can
    feel: the batch gives every group's answers as the groups alone would, in one vectorised pass.
    """
    first = cohorts[0]
    n_nodes = max(c.weight.shape[-1] for c in cohorts)
    n_patterns = first.weight.shape[1]
    fills = {"peak": 0.0, "baseline": 3.0, "weight": 0.0, "log_tau_mean": 0.0, "log_tau_sd": 1.0}
    padded = {name: np.full((len(cohorts), n_patterns, n_nodes), fill) for name, fill in fills.items()}
    for a, c in enumerate(cohorts):
        n = c.weight.shape[-1]
        for name, out in padded.items():
            out[a, :, :n] = getattr(c, name)[0]
    shares = [c.responder_share for c in cohorts]
    grades = [c.grade for c in cohorts]
    return replace(
        first,
        mix=np.concatenate([c.mix for c in cohorts]),
        onset_log_mean=np.concatenate([c.onset_log_mean for c in cohorts]),
        responder_share=None if any(r is None for r in shares) else np.concatenate(shares),
        grade=None if all(g is None for g in grades) else np.concatenate([c._grade()[:, 0, 0] for c in cohorts]),
        **padded,
    )


def shared_fields(params: Parameters) -> dict:
    """The cohort fields every patient shares: onset spread, curve shapes and the raters."""
    return {
        "onset_log_sd": float(np.exp(params["log_onset_sd"])),
        "gamma": float(np.exp(params["log_gamma"])),
        "rise_shape": float(np.exp(params["log_rise_shape"])),
        "visibility": float(np.exp(params["log_visibility"])),
        "rater_optimism": {r: float(expit(params[f"logit_{r}_optimism"])) for r in RATERS},
        "rater_sd": {r: float(np.exp(params[f"log_{r}_sd"])) for r in RATERS},
    }


@dataclass(frozen=True)
class TreatmentTerms:
    """The population part of treatments' model, one entry per treatment: log relative dose, mean log tau,
    mean log onset day."""

    log_rel_dose: np.ndarray
    log_tau_mean: np.ndarray
    onset_log_mean: np.ndarray
    omega: float
    log_ec50: float
    hill: float

    def take(self, rows: np.ndarray) -> TreatmentTerms:
        """The terms of the treatments ``rows`` only."""
        return replace(
            self,
            log_rel_dose=self.log_rel_dose[rows],
            log_tau_mean=self.log_tau_mean[rows],
            onset_log_mean=self.onset_log_mean[rows],
        )

    def peak(self, z_effect: np.ndarray) -> np.ndarray:
        """(treatments, nodes) peak effect at sensitivities ``z_effect``: nodes (M,) shared by every treatment, or
        (treatments, M) of each its own (:func:`wearoff.model.curve.peak_effect`)."""
        z = np.asarray(z_effect)
        return curve.peak_effect(
            self.log_rel_dose[:, None] + self.omega * (z if z.ndim == 2 else z[None, :]),
            log_ec50=self.log_ec50,
            hill=self.hill,
        )


def treatment_terms(params: Parameters, cov: Covariates) -> TreatmentTerms:
    """The population terms of every covariate row."""
    log_r = cov.effective_log_dose(params)
    mu = curve.log_tau(
        log_r,
        log_tau_ref=params["log_tau_ref"],
        beta_dose=params["beta_dose"],
        log_r_plateau=params["log_r_plateau"],
        beta_area_activity=params["beta_area_activity"],
        area_activity=cov.area_activity,
        duration_offset=cov.duration_offset,
    )
    return TreatmentTerms(
        log_rel_dose=log_r,
        log_tau_mean=np.asarray(mu, float),
        onset_log_mean=params["log_onset_median"] + cov.onset_offset,
        omega=float(np.exp(params["log_omega_effect"])),
        log_ec50=params["log_ec50"],
        hill=float(np.exp(params["log_hill"])),
    )


def population_cohorts(
    params: Parameters,
    cov: Covariates,
    mix: np.ndarray,
    baseline_severity: int | None = None,
    grade: np.ndarray | None = None,
) -> Cohorts:
    """Cohorts with population random effects. ``cov`` holds A x S covariate rows (group-major), ``mix``
    (A, S) their weights and ``grade`` (A,) the size of each group's rated grade (:func:`grade_size`; default
    the 4-point scale's)."""
    mix = np.asarray(mix, float)
    n_groups, n_patterns = mix.shape
    grade_a = np.ones(n_groups) if grade is None else np.asarray(grade, float)
    z_e, w_e = standard_normal_nodes(N_EFFECT_NODES)
    grades, w_b = baseline_mix(params, baseline_severity)
    terms = treatment_terms(params, cov)
    omega, hill = terms.omega, terms.hill
    log_r = terms.log_rel_dose.reshape(n_groups, n_patterns)
    peak = terms.peak(z_e).reshape(n_groups, n_patterns, len(z_e))
    mu = terms.log_tau_mean.reshape(n_groups, n_patterns)
    # responders: E_max > e_B  <=>  log r + omega z > log EC50 + logit(e_B) / h
    visibility = float(np.exp(params["log_visibility"]))
    need = curve.effect_needed(curve.HALF_GRADE * grade_a[:, None], grades[None, :], visibility)  # (A, B)
    thresholds = params["log_ec50"] + logit(need) / hill
    with np.errstate(invalid="ignore"):
        share = np.nan_to_num(np.sum(w_b * normal_cdf((log_r[..., None] - thresholds[:, None, :]) / omega), axis=-1))
    shape = (n_groups, n_patterns, len(z_e) * len(grades))
    return Cohorts(
        peak=np.repeat(peak, len(grades), axis=-1),
        baseline=np.broadcast_to(np.tile(grades, len(z_e)), shape),
        weight=np.broadcast_to(np.outer(w_e, w_b).ravel(), shape),
        mix=mix,
        log_tau_mean=np.broadcast_to(mu[..., None], shape),
        log_tau_sd=np.full(shape, float(np.exp(params["log_sigma_tau"]))),
        onset_log_mean=terms.onset_log_mean.reshape(n_groups, n_patterns),
        responder_share=share,
        grade=None if grade is None else grade_a,
        **shared_fields(params),
    )
