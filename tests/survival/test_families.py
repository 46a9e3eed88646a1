"""The error distributions: identities, stable interval probabilities, fused forms against the generic ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from wearoff.survival.families import FAMILIES, Family, LogNormal, Weibull, get_family, log1mexp

NAMES = sorted(FAMILIES)


@pytest.mark.parametrize("name", NAMES)
def test_log_sf_and_log_cdf_are_complementary(name: str) -> None:
    fam = get_family(name)
    z = np.linspace(-6.0, 3.0, 101)
    np.testing.assert_allclose(np.exp(fam.log_sf(z)) + np.exp(fam.log_cdf(z)), 1.0, rtol=0, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_density_derivatives_match_finite_differences(name: str) -> None:
    fam = get_family(name)
    z = np.linspace(-5.0, 2.5, 37)
    h = 1e-5
    np.testing.assert_allclose(fam.dlog_pdf(z), (fam.log_pdf(z + h) - fam.log_pdf(z - h)) / (2 * h), atol=1e-7)
    np.testing.assert_allclose(fam.d2log_pdf(z), (fam.dlog_pdf(z + h) - fam.dlog_pdf(z - h)) / (2 * h), atol=1e-7)
    # the density is -dS/dz
    np.testing.assert_allclose(
        np.exp(fam.log_pdf(z)), -(np.exp(fam.log_sf(z + h)) - np.exp(fam.log_sf(z - h))) / (2 * h), atol=1e-9
    )


@pytest.mark.parametrize("name", NAMES)
def test_quantile_inverts_the_survival(name: str) -> None:
    fam = get_family(name)
    p = np.array([0.001, 0.1, 0.5, 0.9, 0.999])
    np.testing.assert_allclose(np.exp(fam.log_sf(fam.quantile(p))), p, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("z_mid", [-30.0, -8.0, 0.0, 2.0, 3.3])
def test_narrow_intervals_keep_their_probability(name: str, z_mid: float) -> None:
    """log(S(z) - S(z + d)) -> log f(z) + log d for tiny d, wherever the interval lies (no cancellation)."""
    fam = get_family(name)
    if name == "lognormal" and z_mid < -20:
        z_mid = -20.0  # the normal density underflows far below that
    d = 1e-9
    got = fam.log_interval(np.array([z_mid - d / 2]), np.array([z_mid + d / 2]))[0]
    expected = fam.log_pdf(np.array([z_mid]))[0] + math.log(d)
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_far_upper_tail_interval_of_the_normal() -> None:
    # ndtr(-z) is accurate in the upper tail, so this reference has full relative precision
    z_lo, z_hi = 30.0, 31.0
    reference = math.log(ndtr(-z_lo)) + math.log1p(-ndtr(-z_hi) / ndtr(-z_lo))
    assert LogNormal.log_interval(np.array([z_lo]), np.array([z_hi]))[0] == pytest.approx(reference, rel=1e-12)


def test_wide_weibull_interval_is_almost_certain() -> None:
    got = Weibull.log_interval(np.array([-50.0]), np.array([5.0]))[0]
    expected = math.log(math.exp(-math.exp(-50.0)) - math.exp(-math.exp(5.0)))
    assert got == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("name", ["weibull", "loglogistic"])
def test_fused_forms_equal_the_generic_ones(name: str) -> None:
    fam = get_family(name)
    rng = np.random.default_rng(0)
    z_lo = rng.uniform(-12.0, 2.5, 500)
    z_hi = z_lo + np.exp(rng.uniform(-12.0, 1.5, 500))
    fused = fam.interval(z_lo, z_hi, 2)
    generic = Family.interval.__func__(type(fam), z_lo, z_hi, 2)
    for a, b in zip(fused, generic, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    for method in ("right", "left", "exact"):
        f_out = getattr(fam, method)(z_lo, 2)
        g_out = getattr(Family, method).__func__(type(fam), z_lo, 2)
        for a, b in zip(f_out, g_out, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_log1mexp_is_accurate_on_both_branches() -> None:
    x = np.array([-1e-12, -0.1, -math.log(2.0), -5.0, -40.0])
    expected = np.log(-np.expm1(x))
    expected[-1] = -math.exp(-40.0)  # log(1 - e^-40) = -e^-40 to double precision
    np.testing.assert_allclose(log1mexp(x), expected, rtol=1e-12)


def test_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown family"):
        get_family("gompertz")
    assert get_family("Log-Normal").name == "lognormal"
