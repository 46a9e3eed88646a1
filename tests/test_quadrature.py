"""Gauss rules for a between-trial shift whose sd is known only up to its posterior."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wearoff.model.cohort import standard_normal_nodes
from wearoff.model.quadrature import UncertainSd, gauss_rule, sd_mixture, shift_rule


def double_factorial(k: int) -> int:
    """(2k - 1)!!: the 2k-th moment of a standard normal."""
    return math.prod(range(1, 2 * k, 2))


def test_a_known_sd_gives_gauss_hermite_scaled() -> None:
    shifts, weights = shift_rule([UncertainSd(math.log(0.3))], 5)
    z, w = standard_normal_nodes(5)
    assert shifts == pytest.approx(0.3 * z)
    assert weights == pytest.approx(w)


@pytest.mark.parametrize("log_sd", [0.2, 0.5])
def test_an_uncertain_sd_gives_the_scale_mixtures_moments(log_sd: float) -> None:
    """X = e^h Z with h ~ N(m, s^2): E[X^2k] = (2k - 1)!! exp(2km + 2k^2 s^2) for the even moments a 5-point rule
    integrates (k <= 4), odd moments 0, and tails heavier than a normal's of the same variance."""
    m = -1.2
    shifts, weights = shift_rule([UncertainSd(m, log_sd)], 5)
    assert weights.sum() == pytest.approx(1.0)
    assert weights @ shifts == pytest.approx(0.0, abs=1e-12)
    for k in range(1, 5):
        exact = double_factorial(k) * math.exp(2 * k * m + 2 * k * k * log_sd**2)
        assert weights @ shifts ** (2 * k) == pytest.approx(exact, rel=5e-3)
    variance = weights @ shifts**2
    assert weights @ shifts**4 > 3.0 * variance**2 * 1.1


def test_terms_add_their_variances_with_their_loadings() -> None:
    """sigma^2 = v0 + sum c_j e^(2 h_j): the rule's variance is v0 + sum c_j exp(2 m_j + 2 s_j^2); a term with
    loading 0 counts for nothing."""
    terms = [UncertainSd(-1.0, 0.3), UncertainSd(-1.5, 0.4, loading=1.0), UncertainSd(0.0, 0.5, loading=0.0)]
    shifts, weights = shift_rule(terms, 32, known_variance=0.05)
    exact = 0.05 + math.exp(-2.0 + 2 * 0.09) + math.exp(-3.0 + 2 * 0.16)
    assert weights @ shifts**2 == pytest.approx(exact, rel=1e-9)
    sigmas, sigma_weights = sd_mixture(terms, 0.05)
    assert sigma_weights @ sigmas**2 == pytest.approx(exact, rel=1e-9)
    assert sd_mixture([UncertainSd(-1.0)], 0.05)[0] == pytest.approx([math.sqrt(0.05 + math.exp(-2.0))])


def test_a_gauss_rule_integrates_its_measure_up_to_degree_2n_minus_1() -> None:
    rng = np.random.default_rng(3)
    points, masses = rng.normal(size=400), rng.uniform(size=400)
    nodes, weights = gauss_rule(points, masses, 6)
    measure = masses / masses.sum()
    for degree in range(12):
        assert weights @ nodes**degree == pytest.approx(measure @ points**degree, rel=1e-8, abs=1e-10)
    assert weights @ nodes**12 != pytest.approx(measure @ points**12, rel=1e-6)


def test_a_rule_needs_more_points_than_nodes() -> None:
    with pytest.raises(ValueError, match="more than 5 points"):
        gauss_rule(np.arange(5.0), np.ones(5), 5)
