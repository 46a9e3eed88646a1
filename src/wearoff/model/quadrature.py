r"""Quadrature for a between-trial shift whose sd is itself uncertain.

A new trial's shift on some scale (a logit, a log of days, a log EC50) is :math:`X = \sigma\zeta` with
:math:`\zeta \sim N(0, 1)`. When :math:`\sigma` is a fitted heterogeneity, the calibration knows it only up to
its posterior, :math:`\log\sigma \sim N(m, s^2)` (the Laplace approximation), and the predictive distribution
of the shift is the scale mixture

.. math:: p(x) = \int \phi(x / \sigma)\,/\sigma \; p(\log\sigma)\,d\log\sigma,

symmetric and heavier-tailed than any one normal: with few trials to measure a heterogeneity, a new trial may
well differ by more than the fitted sd says (the prediction interval of a random-effects meta-analysis,
Higgins, Thompson & Spiegelhalter, J R Stat Soc A 2009;172:137-159). A shift's variance may also gather
several such terms and a known part, :math:`\sigma^2 = v_0 + \sum_j c_j e^{2 h_j}` with independent
:math:`h_j \sim N(m_j, s_j^2)`.

:func:`sd_mixture` discretises :math:`\sigma` by Gauss-Hermite nodes in each :math:`h_j`; :func:`shift_rule`
turns the shift's distribution into a Gauss rule of a few nodes (exact for polynomials of degree :math:`2n - 1`
in *x* under the discretised measure), by the Lanczos process on the discretised measure and the eigenvalues of
the resulting Jacobi matrix (Golub & Welsch, Math Comp 1969;23:221-230; Gautschi, *Orthogonal Polynomials:
Computation and Approximation*, Oxford 2004, sections 2.2.3 and 3.1.1). With every :math:`s_j = 0` the rule is
Gauss-Hermite's scaled by :math:`\sigma`, the shift of a known sd.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh_tridiagonal

from wearoff.model.cohort import product_normal_nodes, standard_normal_nodes

SD_NODES = 12
r"""Gauss-Hermite nodes over each uncertain log sd in :func:`sd_mixture`. The moments of the shift that a 5-node
rule matches, :math:`E[X^{2k}] = (2k - 1)!!\,e^{2km + 2k^2s^2}` for :math:`k \le 4`, come out within 0.4 % for
a posterior sd *s* of the log sd up to 0.5, the priors' own (8 nodes: 13 %)."""
SHIFT_NODES = 32
"""Nodes of the standard normal :math:`\\zeta` crossed with the sd nodes before :func:`shift_rule` reduces them."""


@dataclass(frozen=True)
class UncertainSd:
    """A term of a shift's variance, :math:`c\\,e^{2h}` with :math:`h \\sim N(m, s^2)`: the log of a fitted sd
    (``log_mean`` *m*), its posterior sd (``log_sd`` *s*, 0 when known) and how much of it the row carries
    (``loading`` *c*)."""

    log_mean: float
    log_sd: float = 0.0
    loading: float = 1.0


def sd_mixture(terms: Sequence[UncertainSd], known_variance: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    r"""The distribution of :math:`\sigma = \sqrt{v_0 + \sum_j c_j e^{2 h_j}}` as (values, weights summing to 1):
    :data:`SD_NODES` Gauss-Hermite nodes in each :math:`h_j` that is uncertain, one node in each that is not."""
    active = [t for t in terms if t.loading != 0.0]
    uncertain = [t for t in active if t.log_sd > 0.0]
    known = known_variance + sum(t.loading * np.exp(2.0 * t.log_mean) for t in active if t.log_sd <= 0.0)
    variance = np.full(1, float(known))
    if not uncertain:
        return np.sqrt(variance), np.ones(1)
    grid, weights = product_normal_nodes(SD_NODES, len(uncertain))
    for t, z in zip(uncertain, grid.T, strict=True):
        variance = variance + t.loading * np.exp(2.0 * (t.log_mean + t.log_sd * z))
    return np.sqrt(variance), weights


def shift_rule(terms: Sequence[UncertainSd], nodes: int, known_variance: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    r"""An *nodes*-point Gauss rule (shifts, weights summing to 1) for :math:`X = \sigma\zeta`, :math:`\sigma`
    distributed as :func:`sd_mixture` says: the discrete measure of :data:`SHIFT_NODES` standard normal nodes
    times each value of :math:`\sigma` reduced by :func:`gauss_rule`."""
    sigmas, sigma_weights = sd_mixture(terms, known_variance)
    if sigmas.size == 1:
        z, z_weights = standard_normal_nodes(nodes)
        return sigmas[0] * z, z_weights
    z, z_weights = standard_normal_nodes(SHIFT_NODES)
    points = (sigmas[:, None] * z[None, :]).ravel()
    masses = (sigma_weights[:, None] * z_weights[None, :]).ravel()
    return gauss_rule(points, masses, nodes)


def gauss_rule(points: np.ndarray, masses: np.ndarray, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The *nodes*-point Gauss rule of the discrete measure :math:`\sum_i w_i \delta_{x_i}`: the Lanczos process
    on :math:`\operatorname{diag}(x)` from the unit vector :math:`\sqrt{w}/\lVert\sqrt{w}\rVert` gives the
    measure's Jacobi matrix (recurrence coefficients :math:`\alpha_k, \beta_k` of its orthogonal polynomials;
    fully re-orthogonalised, so it is stable); its eigenvalues are the nodes and the squared first components of
    its eigenvectors, times the total mass, the weights. Weights are returned normalised to sum to 1."""
    x = np.asarray(points, float)
    w = np.asarray(masses, float)
    if nodes >= np.count_nonzero(w > 0):
        raise ValueError(f"a {nodes}-point rule needs a measure on more than {nodes} points")
    basis = np.zeros((nodes, x.size))
    basis[0] = np.sqrt(w) / np.sqrt(w.sum())
    alpha = np.zeros(nodes)
    beta = np.zeros(nodes - 1)
    for k in range(nodes):
        v = x * basis[k]
        alpha[k] = basis[k] @ v
        v -= basis[: k + 1].T @ (basis[: k + 1] @ v)
        v -= basis[: k + 1].T @ (basis[: k + 1] @ v)
        if k + 1 < nodes:
            beta[k] = np.linalg.norm(v)
            basis[k + 1] = v / beta[k]
    values, vectors = eigh_tridiagonal(alpha, beta)
    weights = vectors[0] ** 2
    return values, weights / weights.sum()
