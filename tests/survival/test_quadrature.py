"""Adaptive Gauss-Hermite quadrature of normal random effects: exact where it should be, and adapting where a
fixed rule fails."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import log_ndtr

from wearoff.survival.quadrature import adapt_to_posterior, product_rule


def test_product_rule_integrates_gaussian_moments() -> None:
    x, log_w = product_rule(5, 2)
    w = np.exp(log_w) / math.pi  # against e^{-|x|^2} / pi, the N(0, I/2) density
    assert x.shape == (25, 2)
    assert w.sum() == pytest.approx(1.0)
    assert np.sum(w * x[:, 0] ** 2) == pytest.approx(0.5)
    assert np.sum(w * x[:, 0] ** 2 * x[:, 1] ** 2) == pytest.approx(0.25)
    assert np.sum(w * x[:, 0] ** 4) == pytest.approx(0.75)


def _gaussian_likelihood(centre: np.ndarray, sd: np.ndarray):
    """Each group observes its effects with independent normal noise: the posterior is normal in closed form."""

    def log_likelihood(points: np.ndarray, groups: np.ndarray) -> np.ndarray:
        z = (points - centre[groups, None, :]) / sd[groups, None, :]
        return np.sum(-0.5 * z * z - np.log(sd[groups, None, :]) - 0.5 * math.log(2 * math.pi), axis=-1)

    return log_likelihood


def test_a_normal_likelihood_gives_the_conjugate_posterior_even_when_narrow() -> None:
    centre = np.array([[0.0, 0.0], [1.5, -2.0], [-3.0, 0.5]])
    sd = np.array([[1.0, 2.0], [0.3, 0.5], [0.01, 0.02]])  # the last is far narrower than the prior's nodes
    rule = adapt_to_posterior(_gaussian_likelihood(centre, sd), 3, 2, 5)
    precision = 1.0 + 1.0 / sd**2
    mean = (centre / sd**2) / precision
    np.testing.assert_allclose(rule.mean(), mean, atol=1e-6)
    np.testing.assert_allclose(np.diagonal(rule.covariance(), axis1=1, axis2=2), 1.0 / precision, rtol=1e-4)
    # the marginal likelihood: N(centre; 0, 1 + sd^2) in each coordinate
    variance = 1.0 + sd**2
    log_marginal = np.sum(-0.5 * centre**2 / variance - 0.5 * np.log(2 * math.pi * variance), axis=1)
    np.testing.assert_allclose(rule.log_marginal, log_marginal, rtol=1e-6)
    np.testing.assert_allclose(rule.weights.sum(axis=1), 1.0)
    # the narrow group needed several steps; a fixed rule (one step) misses its mean badly
    assert rule.iterations[2] > rule.iterations[0]
    fixed = adapt_to_posterior(_gaussian_likelihood(centre, sd), 3, 2, 5, max_iter=1)
    assert np.abs(fixed.mean()[2] - mean[2]).max() > 0.1


def test_a_skewed_posterior_matches_a_dense_grid() -> None:
    """Ordinal-like evidence: three probit observations of a sum and a difference of the two effects."""
    loadings = np.array([[2.5, 1.5], [3.0, -2.0], [-1.0, 4.0]])
    cuts = np.array([-1.0, 2.0, 0.5])

    def log_likelihood(points: np.ndarray, groups: np.ndarray) -> np.ndarray:
        return np.sum(log_ndtr(points @ loadings.T - cuts), axis=-1)

    rule = adapt_to_posterior(log_likelihood, 1, 2, 7)
    grid = np.linspace(-7, 7, 701)
    z = np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1).reshape(-1, 2)
    log_post = log_likelihood(z[None], np.array([0]))[0] - 0.5 * np.sum(z * z, axis=1)
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    dense_mean = w @ z
    dense_sd = np.sqrt(w @ (z - dense_mean) ** 2)
    np.testing.assert_allclose(rule.mean()[0], dense_mean, atol=2e-3)
    np.testing.assert_allclose(np.sqrt(np.diagonal(rule.covariance()[0])), dense_sd, atol=3e-3)


def test_only_unsettled_groups_are_evaluated_again() -> None:
    centre = np.array([[0.5, 0.5], [2.0, -1.0]])
    sd = np.array([[1.0, 1.0], [0.02, 0.05]])
    seen: list[np.ndarray] = []
    gaussian = _gaussian_likelihood(centre, sd)

    def log_likelihood(points: np.ndarray, groups: np.ndarray) -> np.ndarray:
        assert np.all(np.diff(groups) > 0) and points.shape[0] == groups.size
        seen.append(groups.copy())
        return gaussian(points, groups)

    rule = adapt_to_posterior(log_likelihood, 2, 2, 5)
    assert rule.iterations[1] == len(seen) > rule.iterations[0]
    assert all(list(g) == [1] for g in seen[rule.iterations[0] :])


@pytest.mark.parametrize("dim", [0, -1])
def test_a_rule_needs_a_dimension(dim: int) -> None:
    with pytest.raises(ValueError, match="dim"):
        product_rule(3, dim)
