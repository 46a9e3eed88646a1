r"""Adaptive Gauss-Hermite quadrature of normal random effects, for many groups at once.

Both random-effect integrals of wearoff use this module: the random intercept of
:class:`~wearoff.survival.IntervalAFT` (one dimension, nodes placed at each group's mode with analytic derivatives,
:mod:`wearoff.survival.random_effects`) and a patient's sensitivity and duration effects in personal forecasts (two
dimensions, nodes placed on each patient's posterior moments, :func:`adapt_to_posterior`, used by
:mod:`wearoff.model.personal`).

The rule
--------
The product Gauss-Hermite rule has nodes :math:`x_j \in \mathbb{R}^d` and weights :math:`\omega_j` for
:math:`\int e^{-\lVert x\rVert^2} h(x)\,dx` (:func:`product_rule`). A group's random effects :math:`z` have a
standard normal prior :math:`\varphi_d` and the log-likelihood :math:`\ell_g(z)` of the group's data. Under the
affine map :math:`z = m_g + \sqrt2 L_g x` (:math:`L_g` lower triangular),

.. math::

    \int \varphi_d(z)\,e^{\ell_g(z)}\,dz \approx 2^{d/2}\lvert L_g\rvert
        \sum_j \omega_j\,e^{\lVert x_j\rVert^2}\,\varphi_d(z_{gj})\,e^{\ell_g(z_{gj})},

exact when :math:`\varphi_d e^{\ell_g}` is the normal density of mean :math:`m_g` and covariance
:math:`L_g L_g^\top` times a polynomial of degree below :math:`2n` in each coordinate (*n* nodes a dimension). The
posterior of the group's effects is then the discrete distribution on the points :math:`z_{gj}` with weights
:math:`\pi_{gj} \propto \omega_j e^{\lVert x_j\rVert^2}\varphi_d(z_{gj})e^{\ell_g(z_{gj})}`.

Adapting to the posterior's moments
-----------------------------------
A fixed rule (:math:`m = 0`, :math:`L = I`) is accurate only while the posterior is about as wide as the prior: a
patient whose scores pin their sensitivity down has a posterior narrower than the spacing of the nodes, and the
integral falls on one or two of them. Following Naylor & Smith (1982, *Applied Statistics* 31:214-225) the rule
is re-centred and re-scaled on the posterior mean and covariance it gives, and the step repeated until these
settle. No derivative of :math:`\ell_g` is needed. A posterior much narrower than the nodes' spacing would put all
its weight on one node and the covariance would collapse to zero, so one step narrows the rule at most
:data:`MAX_NARROWING` times in any direction: the eigenvalues of :math:`L^{-1}\Sigma L^{-\top}` (the new
covariance in the old rule's frame) are kept at or above :math:`1/\text{MAX\_NARROWING}^2`. A group has settled
when its mean moved by less than ``tol`` of its posterior standard deviation (in the old frame) and no standard
deviation changed by more than the factor ``1 + tol``; the result is the last rule evaluated, whose points and
weights are a consistent quadrature of the posterior.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

__all__ = ["MAX_NARROWING", "PosteriorRule", "adapt_to_posterior", "gauss_hermite", "product_rule"]

MAX_NARROWING = 4.0
"""The most one adaptation step narrows the rule in any direction (standard deviations)."""

LogLikelihood = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``log_likelihood(points, groups)``: points (g, M, d) of the groups ``groups`` (g,) -> log-likelihood (g, M)."""


def gauss_hermite(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes :math:`x_k` and log-weights :math:`\log\omega_k` of the ``n_nodes``-point rule for
    :math:`\int e^{-x^2} h(x)\,dx`."""
    if n_nodes < 1:
        raise ValueError("n_nodes must be at least 1")
    x, w = np.polynomial.hermite.hermgauss(n_nodes)
    return x, np.log(w)


def product_rule(n_nodes: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The ``n_nodes ** dim`` nodes (M, d) and log-weights (M,) of the product rule for
    :math:`\int e^{-\lVert x\rVert^2} h(x)\,dx` over :math:`\mathbb{R}^d`."""
    if dim < 1:
        raise ValueError("dim must be at least 1")
    x, log_w = gauss_hermite(n_nodes)
    grids = np.meshgrid(*([x] * dim), indexing="ij")
    log_grids = np.meshgrid(*([log_w] * dim), indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1), np.sum([g.ravel() for g in log_grids], axis=0)


@dataclass(frozen=True)
class PosteriorRule:
    r"""Each group's posterior as weighted points: ``points`` (G, M, d), ``weights`` (G, M) summing to 1 per group,
    ``log_marginal`` :math:`\log\int\varphi_d e^{\ell_g}` (G,), and the adaptation steps each group took."""

    points: np.ndarray
    weights: np.ndarray
    log_marginal: np.ndarray
    iterations: np.ndarray

    def mean(self) -> np.ndarray:
        """(G, d) posterior means."""
        return np.einsum("gm,gmi->gi", self.weights, self.points)

    def covariance(self) -> np.ndarray:
        """(G, d, d) posterior covariances."""
        deviation = self.points - self.mean()[:, None, :]
        return np.einsum("gm,gmi,gmj->gij", self.weights, deviation, deviation)


def _log_standard_normal(points: np.ndarray) -> np.ndarray:
    d = points.shape[-1]
    return -0.5 * np.sum(points * points, axis=-1) - 0.5 * d * math.log(2.0 * math.pi)


def _next_frame(
    cholesky: np.ndarray, mean: np.ndarray, covariance: np.ndarray, centre: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """The rule's next Cholesky factor (the covariance narrowed at most :data:`MAX_NARROWING` times) and whether
    each group has settled (module docstring)."""
    inverse = np.linalg.inv(cholesky)
    in_frame = inverse @ covariance @ np.swapaxes(inverse, 1, 2)
    values, vectors = np.linalg.eigh(0.5 * (in_frame + np.swapaxes(in_frame, 1, 2)))
    values = np.maximum(values, 1.0 / MAX_NARROWING**2)
    kept = (vectors * values[:, None, :]) @ np.swapaxes(vectors, 1, 2)
    new = np.linalg.cholesky(cholesky @ kept @ np.swapaxes(cholesky, 1, 2))
    shift = np.linalg.norm(np.einsum("gij,gj->gi", inverse, mean - centre), axis=1)
    # relative to the posterior's own spread: the shift in the old frame over the smallest new SD in it
    settled = (shift < tol * np.sqrt(values.min(axis=1))) & (np.abs(0.5 * np.log(values)).max(axis=1) < math.log1p(tol))
    return new, settled


def adapt_to_posterior(
    log_likelihood: LogLikelihood,
    n_groups: int,
    dim: int,
    n_nodes: int,
    *,
    max_iter: int = 12,
    tol: float = 0.1,
) -> PosteriorRule:
    """Each group's posterior of its standard normal random effects by moment-adapted Gauss-Hermite quadrature.

    ``log_likelihood(points, groups)`` gives the log-likelihood of the groups ``groups`` (an increasing index
    array) at their points (g, M, d); only groups that have not settled are evaluated again. See the module
    docstring for the rule and the adaptation.
    """
    x, log_w = product_rule(n_nodes, dim)
    base = log_w + np.sum(x * x, axis=1)
    centre = np.zeros((n_groups, dim))
    cholesky = np.broadcast_to(np.eye(dim), (n_groups, dim, dim)).copy()
    points = np.empty((n_groups, x.shape[0], dim))
    weights = np.empty((n_groups, x.shape[0]))
    log_marginal = np.empty(n_groups)
    iterations = np.zeros(n_groups, dtype=int)
    active = np.arange(n_groups)
    for step in range(1, max_iter + 1):
        if not active.size:
            break
        frame = cholesky[active]
        at = centre[active, None, :] + math.sqrt(2.0) * np.einsum("gij,mj->gmi", frame, x)
        log_terms = base + _log_standard_normal(at) + log_likelihood(at, active)
        log_norm = logsumexp(log_terms, axis=1)
        pi = np.exp(log_terms - log_norm[:, None])
        log_det = np.sum(np.log(np.diagonal(frame, axis1=1, axis2=2)), axis=1)
        points[active], weights[active], iterations[active] = at, pi, step
        log_marginal[active] = log_norm + 0.5 * dim * math.log(2.0) + log_det
        mean = np.einsum("gm,gmi->gi", pi, at)
        deviation = at - mean[:, None, :]
        covariance = np.einsum("gm,gmi,gmj->gij", pi, deviation, deviation)
        new_frame, settled = _next_frame(frame, mean, covariance, centre[active], tol)
        centre[active], cholesky[active] = mean, new_frame
        active = active[~settled]
    return PosteriorRule(points, weights, log_marginal, iterations)
