r"""Normal random intercepts integrated out by adaptive Gauss-Hermite quadrature (AGHQ), vectorised over groups.

Model
-----
Row :math:`i` of group :math:`g` has location :math:`\mu_i = x_i^\top\beta + b_g` with
:math:`b_g \sim N(0, \tau^2)` independent across groups. The marginal likelihood of a group is

.. math::

    L_g = \int \exp H_g(b)\,db,\qquad H_g(b) = \sum_{i \in g}\ell_i(x_i^\top\beta + b) + \log\varphi(b;\tau),

with :math:`\ell_i` the row log-likelihood of :mod:`wearoff.survival.likelihood` and
:math:`\log\varphi(b;\tau) = -b^2/(2\tau^2) - \log\tau - \tfrac12\log 2\pi`.

Adaptive quadrature
-------------------
:math:`H_g` is strictly concave (the families have log-concave densities), so each group has one mode
:math:`\hat b_g`, found by a safeguarded Newton iteration run on all groups at once (sums per group with
``np.bincount``), and a curvature scale :math:`\hat s_g = (-H_g''(\hat b_g))^{-1/2}`. With Gauss-Hermite nodes
:math:`x_k` and weights :math:`\omega_k` (for :math:`\int e^{-x^2}h(x)\,dx`) and
:math:`b_{gk} = \hat b_g + \sqrt2\,\hat s_g x_k`,

.. math::

    \log L_g \approx \log(\sqrt2\,\hat s_g) + \log\sum_k \exp\big(\log\omega_k + x_k^2 + H_g(b_{gk})\big).

The rule is that of :mod:`wearoff.survival.quadrature` in one dimension, placed at the mode rather than on the
posterior's moments because the AFT rows have analytic derivatives. One node is the Laplace approximation; the
default 15 nodes integrate exactly any polynomial of degree 29 times the fitted Gaussian. Weibull integrands
(double-exponential tails in :math:`b`) need more nodes than the other families: on three interval-censored rows
per group the error per group was about 3e-6 with 9 nodes and below 1e-8 with 15.

Derivatives
-----------
Parameters are :math:`\theta = (\beta, s = \log\sigma, \log\tau)`. For *fixed* nodes (:math:`\hat b, \hat s` held
constant) the rule is a smooth function of :math:`\theta` with exact derivatives: with
:math:`\pi_{gk}` the normalised node weights (a softmax over :math:`k`) and :math:`v_{gk} = \nabla_\theta H_g(b_{gk})`,

.. math::

    \nabla \log L_g = \sum_k \pi_{gk} v_{gk},\qquad
    \nabla^2 \log L_g = \sum_k \pi_{gk}\big(\nabla^2 H_g(b_{gk}) + v_{gk}v_{gk}^\top\big) - m_g m_g^\top,
    \quad m_g = \sum_k \pi_{gk} v_{gk},

where :math:`\partial \log\varphi/\partial\log\tau = b^2/\tau^2 - 1` and
:math:`\partial^2 \log\varphi/\partial(\log\tau)^2 = -2b^2/\tau^2`. The fitter re-adapts the nodes at every
parameter value it evaluates and uses these fixed-node derivatives there; the nodes' own dependence on
:math:`\theta` changes the gradient only by a term of the size of the quadrature error, which is neglected.

Partitions
----------
:func:`grouped_negative_log_likelihood` returns sums over groups, so results from data partitions add up to the
full-data result provided no group is split across partitions (partition the records by patient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from wearoff.survival.families import Family, get_family
from wearoff.survival.likelihood import LikelihoodSums, PreparedTimes, prepare_times, row_terms, weighted_gram
from wearoff.survival.quadrature import gauss_hermite

__all__ = [
    "GroupQuadrature",
    "adapt_quadrature",
    "grouped_negative_log_likelihood",
    "grouped_nll_prepared",
    "marginal_survival",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
DEFAULT_NODES = 15


@dataclass
class GroupQuadrature:
    r"""Adapted quadrature of every group: modes :math:`\hat b_g`, scales :math:`\hat s_g` and the base rule."""

    modes: np.ndarray
    scales: np.ndarray
    nodes: np.ndarray
    log_weights: np.ndarray
    n_newton: int = 0

    def points(self, k: int) -> np.ndarray:
        r""":math:`b_{gk}` for node ``k``, one value per group."""
        return self.modes + math.sqrt(2.0) * self.scales * self.nodes[k]

    @property
    def log_base(self) -> np.ndarray:
        r""":math:`\log\omega_k + x_k^2`, the node terms of the log-sum."""
        return self.log_weights + self.nodes**2


def _group_sum(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    return np.bincount(groups, weights=values, minlength=n_groups)


def adapt_quadrature(
    family: Family,
    eta: np.ndarray,
    log_scale: float,
    log_tau: float,
    times: PreparedTimes,
    groups: np.ndarray,
    n_groups: int,
    n_nodes: int = DEFAULT_NODES,
    start: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> GroupQuadrature:
    r"""Find every group's mode :math:`\hat b_g` of :math:`H_g` and scale :math:`\hat s_g` (vectorised Newton).

    Newton steps :math:`b \leftarrow b - H'/H''` are kept inside a bracket :math:`[lo, hi]` with
    :math:`H'(lo) > 0 > H'(hi)` (bisection when a step leaves it, steps capped at :math:`2\tau+1` while the bracket
    is open), which converges for any concave :math:`H_g`; ``start`` warm-starts from earlier modes.
    """
    tau2 = math.exp(2.0 * log_tau)
    b = np.zeros(n_groups) if start is None else np.array(start, dtype=float)
    lo = np.full(n_groups, -np.inf)
    hi = np.full(n_groups, np.inf)
    cap = 2.0 * math.sqrt(tau2) + 1.0
    d2 = None
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        t = row_terms(family, eta + b[groups], log_scale, times, order=2, mu_only=True)
        d1 = _group_sum(groups, t.d_mu, n_groups) - b / tau2
        d2 = _group_sum(groups, t.d_mumu, n_groups) - 1.0 / tau2
        lo = np.where(d1 > 0, np.maximum(lo, b), lo)
        hi = np.where(d1 <= 0, np.minimum(hi, b), hi)
        step = -d1 / d2
        step = np.clip(step, -cap, cap)
        proposal = b + step
        outside = (proposal < lo) | (proposal > hi)
        both = np.isfinite(lo) & np.isfinite(hi)
        proposal = np.where(outside & both, 0.5 * (lo + hi), proposal)
        done = np.abs(proposal - b) <= tol * (1.0 + np.abs(b))
        b = proposal
        if done.all():
            break
    scales = 1.0 / np.sqrt(-d2)
    x, log_w = gauss_hermite(n_nodes)
    return GroupQuadrature(modes=b, scales=scales, nodes=x, log_weights=log_w, n_newton=it)


@dataclass
class GroupedSums(LikelihoodSums):
    """:class:`LikelihoodSums` plus each group's posterior mean and SD of :math:`b_g` (from the same nodes)."""

    posterior_mean: np.ndarray | None = None
    posterior_sd: np.ndarray | None = None


def grouped_nll_prepared(
    params: np.ndarray,
    X: np.ndarray,
    times: PreparedTimes,
    groups: np.ndarray,
    n_groups: int,
    family: Family,
    quad: GroupQuadrature,
    order: int = 1,
) -> GroupedSums:
    r"""Negative AGHQ marginal log-likelihood :math:`-\sum_g \log L_g` at *fixed* nodes ``quad``, with exact
    gradient and Hessian of that rule in :math:`\theta = (\beta, \log\sigma, \log\tau)` (see the module docstring).
    """
    params = np.asarray(params, dtype=float)
    p = X.shape[1]
    beta, log_scale, log_tau = params[:p], float(params[p]), float(params[p + 1])
    tau2 = math.exp(2.0 * log_tau)
    eta = X @ beta
    n_nodes = quad.nodes.size
    log_prior_const = -log_tau - _LOG_SQRT_2PI

    # pass 1: H_g(b_gk) for all groups and nodes
    H = np.empty((n_groups, n_nodes))
    points = np.empty((n_groups, n_nodes))
    for k in range(n_nodes):
        bk = quad.points(k)
        points[:, k] = bk
        t = row_terms(family, eta + bk[groups], log_scale, times, order=0)
        H[:, k] = _group_sum(groups, t.ll, n_groups) - 0.5 * bk * bk / tau2 + log_prior_const
    a = H + quad.log_base
    log_norm = logsumexp(a, axis=1)
    log_l = log_norm + np.log(math.sqrt(2.0) * quad.scales)
    pi = np.exp(a - log_norm[:, None])
    post_mean = (pi * points).sum(axis=1)
    post_sd = np.sqrt(np.maximum((pi * points * points).sum(axis=1) - post_mean**2, 0.0))
    value = -float(log_l.sum())
    if order < 1:
        return GroupedSums(value, None, None, times.n, posterior_mean=post_mean, posterior_sd=post_sd)

    # pass 2: derivatives, weighted per row by the group's node weight pi_gk
    n_par = p + 2
    u_mu = np.zeros(times.n)
    u_s = 0.0
    if order >= 2:
        u_mumu = np.zeros(times.n)
        u_mus = np.zeros(times.n)
        u_ss = 0.0
        outer = np.zeros((n_par, n_par))
        m = np.zeros((n_groups, n_par))
    r2 = points * points / tau2  # b^2 / tau^2
    for k in range(n_nodes):
        t = row_terms(family, eta + points[groups, k], log_scale, times, order=order)
        w = pi[groups, k]
        u_mu += w * t.d_mu
        u_s += float(w @ t.d_s)
        if order >= 2:
            u_mumu += w * t.d_mumu
            u_mus += w * t.d_mus
            u_ss += float(w @ t.d_ss)
            v = np.empty((n_groups, n_par))
            for j in range(p):
                v[:, j] = _group_sum(groups, X[:, j] * t.d_mu, n_groups)
            v[:, p] = _group_sum(groups, t.d_s, n_groups)
            v[:, p + 1] = r2[:, k] - 1.0
            pk = pi[:, k]
            outer += v.T @ (v * pk[:, None])
            m += pk[:, None] * v
    grad = np.empty(n_par)
    grad[:p] = X.T @ u_mu
    grad[p] = u_s
    grad[p + 1] = float((pi * (r2 - 1.0)).sum())
    hess = None
    if order >= 2:
        within = np.zeros((n_par, n_par))
        within[:p, :p] = weighted_gram(X, u_mumu)
        within[:p, p] = within[p, :p] = X.T @ u_mus
        within[p, p] = u_ss
        within[p + 1, p + 1] = float((pi * (-2.0 * r2)).sum())
        hess = -(within + outer - m.T @ m)
    return GroupedSums(value, -grad, hess, times.n, posterior_mean=post_mean, posterior_sd=post_sd)


def grouped_negative_log_likelihood(
    params: np.ndarray,
    X: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    groups: np.ndarray,
    family: str | Family = "weibull",
    order: int = 1,
    n_nodes: int = DEFAULT_NODES,
    quadrature: GroupQuadrature | None = None,
) -> GroupedSums:
    r"""Negative marginal log-likelihood of the random-intercept AFT model, summed over groups.

    ``params`` is :math:`(\beta_1..\beta_p, \log\sigma, \log\tau)`; ``groups`` are integer codes ``0..G-1``. The
    quadrature is adapted at ``params`` unless ``quadrature`` (from :func:`adapt_quadrature`) is given, in which case
    the returned value, gradient and Hessian are exact derivatives of that fixed rule. Results of partitions add up
    as long as each group lies in one partition.
    """
    fam = get_family(family)
    X = np.asarray(X, dtype=float)
    groups = np.asarray(groups)
    times = prepare_times(lower, upper)
    n_groups = int(groups.max()) + 1 if groups.size else 0
    p = X.shape[1]
    if quadrature is None:
        quadrature = adapt_quadrature(
            fam, X @ params[:p], float(params[p]), float(params[p + 1]), times, groups, n_groups, n_nodes
        )
    return grouped_nll_prepared(params, X, times, groups, n_groups, fam, quadrature, order=order)


def marginal_survival(family: Family, z_shift: np.ndarray, sigma: float, tau: float, n_nodes: int = 64) -> np.ndarray:
    r"""Marginal survival :math:`\int S\big((y - \mu - b)/\sigma\big)\varphi(b;\tau)\,db` by Gauss-Hermite.

    ``z_shift`` is :math:`y - \mu` (any shape). With :math:`b = \sqrt2\tau x`, the integral is
    :math:`\pi^{-1/2}\sum_k \omega_k S((y - \mu - \sqrt2\tau x_k)/\sigma)`. Log-normal has the closed form
    :math:`\Phi(-(y-\mu)/\sqrt{\sigma^2+\tau^2})`, used directly.
    """
    z_shift = np.asarray(z_shift, dtype=float)
    if family.name == "lognormal":
        return np.exp(family.log_sf(z_shift / math.sqrt(sigma * sigma + tau * tau)))
    x, log_w = gauss_hermite(n_nodes)
    w = np.exp(log_w) / math.sqrt(math.pi)
    out = np.zeros_like(z_shift)
    for xk, wk in zip(x, w, strict=True):
        out += wk * np.exp(family.log_sf((z_shift - math.sqrt(2.0) * tau * xk) / sigma))
    return out
