"""The pure likelihood kernels: derivatives against finite differences, additivity over partitions, quadrature."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate

from wearoff.survival import grouped_negative_log_likelihood, negative_log_likelihood
from wearoff.survival.families import get_family
from wearoff.survival.likelihood import prepare_times, row_terms
from wearoff.survival.random_effects import adapt_quadrature

FAMILIES = ["weibull", "loglogistic", "lognormal"]


def _design(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A design with an intercept and bounds covering every row kind: interval, right, left, exact, (0, inf)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
    t = np.exp(4.0 + 0.3 * X[:, 1] + 0.5 * rng.normal(size=n))
    lo = np.floor(t / 10.0) * 10.0
    hi = lo + 10.0
    hi[:40] = np.inf  # right-censored (some with lo = 0: uninformative)
    lo[40:60] = 0.0  # left-censored
    lo[60:80] = hi[60:80] = t[60:80]  # exact
    return X, lo, hi


def _fd_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])


@pytest.mark.parametrize("family", FAMILIES)
def test_gradient_and_hessian_match_finite_differences(family: str) -> None:
    X, lo, hi = _design(300, seed=1)
    theta = np.array([3.9, 0.25, 0.1, math.log(0.6)])
    got = negative_log_likelihood(theta, X, lo, hi, family, order=2)
    grad = _fd_gradient(lambda th: negative_log_likelihood(th, X, lo, hi, family, order=0).value, theta)
    hess = np.array(
        [
            (
                negative_log_likelihood(theta + 1e-6 * e, X, lo, hi, family, order=1).gradient
                - negative_log_likelihood(theta - 1e-6 * e, X, lo, hi, family, order=1).gradient
            )
            / 2e-6
            for e in np.eye(theta.size)
        ]
    )
    np.testing.assert_allclose(got.gradient, grad, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got.hessian, hess, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(got.hessian, got.hessian.T)


def test_row_contributions_follow_the_documented_definition() -> None:
    """Interval rows give log(S(l) - S(u)), exact rows the log-density in days, right rows log S(l)."""
    fam = get_family("weibull")
    lam, rho = 80.0, 2.0  # S(t) = exp(-(t/lam)^rho)
    lo = np.array([30.0, 50.0, 0.0, 60.0])
    hi = np.array([45.0, 50.0, 20.0, np.inf])
    t = row_terms(fam, np.full(4, math.log(lam)), -math.log(rho), prepare_times(lo, hi), order=0)

    def surv(x: float) -> float:
        return math.exp(-((x / lam) ** rho))

    density = rho / lam * (50.0 / lam) ** (rho - 1) * surv(50.0)
    expected = [math.log(surv(30) - surv(45)), math.log(density), math.log(1 - surv(20)), math.log(surv(60))]
    np.testing.assert_allclose(t.ll, expected, rtol=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_partitions_add_up_to_the_whole(family: str) -> None:
    X, lo, hi = _design(500, seed=2)
    theta = np.array([4.1, 0.2, -0.1, math.log(0.5)])
    whole = negative_log_likelihood(theta, X, lo, hi, family, order=2)
    cuts = [0, 77, 300, 500]
    parts = sum(
        negative_log_likelihood(theta, X[a:b], lo[a:b], hi[a:b], family, order=2) for a, b in itertools.pairwise(cuts)
    )
    assert parts.n_rows == whole.n_rows == 500
    assert parts.value == pytest.approx(whole.value, rel=1e-12)
    np.testing.assert_allclose(parts.gradient, whole.gradient, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(parts.hessian, whole.hessian, rtol=1e-10, atol=1e-10)


def _grouped(n_groups: int, per: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_groups), per)
    n = groups.size
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    t = np.exp(4.0 + 0.3 * X[:, 1] + 0.35 * rng.normal(size=n_groups)[groups] + 0.4 * rng.logistic(size=n))
    lo = np.floor(t / 14.0) * 14.0
    hi = lo + 14.0
    hi[::9] = np.inf
    return X, lo, hi, groups


@pytest.mark.parametrize("family", FAMILIES)
def test_grouped_derivatives_are_exact_for_fixed_nodes(family: str) -> None:
    X, lo, hi, groups = _grouped(120, 3, seed=3)
    theta = np.array([3.9, 0.25, math.log(0.45), math.log(0.35)])
    quad = adapt_quadrature(
        get_family(family), X @ theta[:2], theta[2], theta[3], prepare_times(lo, hi), groups, 120, n_nodes=9
    )

    def value(th: np.ndarray, order: int = 0):
        return grouped_negative_log_likelihood(th, X, lo, hi, groups, family, order=order, quadrature=quad)

    got = value(theta, order=2)
    np.testing.assert_allclose(got.gradient, _fd_gradient(lambda th: value(th).value, theta), rtol=1e-6, atol=1e-6)
    hess = np.array(
        [(value(theta + 1e-6 * e, 1).gradient - value(theta - 1e-6 * e, 1).gradient) / 2e-6 for e in np.eye(4)]
    )
    np.testing.assert_allclose(got.hessian, hess, rtol=1e-6, atol=1e-5)


def test_adaptive_quadrature_matches_numerical_integration() -> None:
    """Each group's marginal likelihood by adaptive Gauss-Hermite equals a direct adaptive integral (scipy quad)."""
    X, lo, hi, groups = _grouped(6, 4, seed=4)
    fam = get_family("weibull")
    theta = np.array([3.9, 0.25, math.log(0.4), math.log(0.3)])
    tau = math.exp(theta[3])
    total = 0.0
    for g in range(6):
        rows = groups == g
        times = prepare_times(lo[rows], hi[rows])
        eta = X[rows] @ theta[:2]

        def integrand(b: float, eta: np.ndarray = eta, times=times) -> float:
            ll = row_terms(fam, eta + b, theta[2], times, order=0).ll.sum()
            return math.exp(ll - 0.5 * (b / tau) ** 2) / (math.sqrt(2 * math.pi) * tau)

        value, _ = integrate.quad(integrand, -8 * tau, 8 * tau, epsabs=0, epsrel=1e-12, limit=200)
        total += math.log(value)
    aghq = grouped_negative_log_likelihood(theta, X, lo, hi, groups, "weibull", order=0).value
    assert -aghq == pytest.approx(total, abs=1e-7)


def test_grouped_partitions_add_up_when_groups_are_not_split() -> None:
    X, lo, hi, groups = _grouped(50, 3, seed=5)
    theta = np.array([4.0, 0.3, math.log(0.4), math.log(0.3)])
    whole = grouped_negative_log_likelihood(theta, X, lo, hi, groups, "loglogistic", order=2)
    cut = 3 * 20  # a group boundary
    first = grouped_negative_log_likelihood(theta, X[:cut], lo[:cut], hi[:cut], groups[:cut], "loglogistic", 2)
    second_groups = groups[cut:] - groups[cut]
    second = grouped_negative_log_likelihood(theta, X[cut:], lo[cut:], hi[cut:], second_groups, "loglogistic", order=2)
    total = first + second
    assert total.value == pytest.approx(whole.value, rel=1e-10)
    np.testing.assert_allclose(total.gradient, whole.gradient, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(total.hessian, whole.hessian, rtol=1e-7, atol=1e-7)


def test_laplace_is_the_one_node_rule_and_more_nodes_converge() -> None:
    X, lo, hi, groups = _grouped(40, 3, seed=6)
    theta = np.array([4.0, 0.3, math.log(0.35), math.log(0.4)])
    values = [
        grouped_negative_log_likelihood(theta, X, lo, hi, groups, "weibull", order=0, n_nodes=k).value
        for k in (1, 7, 15, 31)
    ]
    assert abs(values[2] - values[3]) < 1e-6 < abs(values[0] - values[3])
