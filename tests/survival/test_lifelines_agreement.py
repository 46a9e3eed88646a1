"""Agreement with lifelines (a test dependency): same log-likelihood definition, estimates and NPMLE."""

from __future__ import annotations

import warnings

import lifelines
import numpy as np
import pandas as pd
import pytest

from wearoff.survival import IntervalAFT, TurnbullNPMLE

from .conftest import censor_by_visits, simulate_rows

FITTERS = {
    "weibull": ("WeibullAFTFitter", "lambda_", "rho_", -1.0),  # rho = 1 / sigma
    "loglogistic": ("LogLogisticAFTFitter", "alpha_", "beta_", -1.0),  # beta = 1 / sigma
    "lognormal": ("LogNormalAFTFitter", "mu_", "sigma_", 1.0),  # log sigma directly
}


def _lifelines_fit(family: str, df: pd.DataFrame) -> tuple[object, pd.Series, pd.Series]:
    """Fit lifelines and return its model plus params/SEs under wearoff's names."""
    name, primary, ancillary, sign = FITTERS[family]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(lifelines, name)().fit_interval_censoring(df[["lo", "hi", "dose", "male"]], "lo", "hi")
    rename = {"Intercept": "intercept"}
    params = model.params_.loc[primary].rename(index=rename)
    ses = model.standard_errors_.loc[primary].rename(index=rename)
    params["log_scale"] = sign * model.params_.loc[(ancillary, "Intercept")]
    ses["log_scale"] = model.standard_errors_.loc[(ancillary, "Intercept")]
    return model, params, ses


@pytest.mark.parametrize("family", ["weibull", "loglogistic", "lognormal"])
def test_same_maximum_log_likelihood_and_estimates(family: str) -> None:
    df = simulate_rows(family, 3000, seed=31)
    if family == "lognormal":
        # lifelines' log-normal gradient is NaN at lower = 0 and upper = inf (log 0, overflow): interior rows only
        df = df[(df["lo"] > 0) & np.isfinite(df["hi"])].reset_index(drop=True)
    ours = IntervalAFT(family).fit(df, "lo", "hi", ["dose", "male"])
    theirs, params, ses = _lifelines_fit(family, df)
    # identical definition (log(S(l) - S(u)) for intervals, log-density in days for exact rows); ours is at least
    # as high, lifelines' optimiser stops a little earlier for some families
    assert ours.log_likelihood_ == pytest.approx(theirs.log_likelihood_, rel=1e-6)
    assert ours.log_likelihood_ >= theirs.log_likelihood_ - 1e-7 * abs(theirs.log_likelihood_)
    diff = (ours.params_ - params[ours.params_.index]) / ours.standard_errors_
    assert np.max(np.abs(diff)) < 0.02, diff
    np.testing.assert_allclose(ours.standard_errors_, ses[ours.params_.index], rtol=2e-3)


def test_log_likelihood_definition_at_fixed_parameters() -> None:
    """Not only at the optimum: at lifelines' own estimate our likelihood equals its reported value."""
    from wearoff.survival import negative_log_likelihood

    df = simulate_rows("weibull", 1500, seed=32)
    theirs, params, _ = _lifelines_fit("weibull", df)
    X = np.column_stack([np.ones(len(df)), df["dose"], df["male"]])
    theta = params[["intercept", "dose", "male", "log_scale"]].to_numpy()
    ours = -negative_log_likelihood(theta, X, df["lo"].to_numpy(), df["hi"].to_numpy(), "weibull", order=0).value
    assert ours == pytest.approx(theirs.log_likelihood_, rel=1e-12)


def test_turnbull_equals_lifelines_npmle() -> None:
    """Whole-day visits (tied endpoints), exact and right-censored rows; lifelines run to a tight tolerance."""
    rng = np.random.default_rng(9)
    lo, hi = censor_by_visits(90.0 * rng.weibull(2.0, 120), rng, exact_share=0.1)
    lo, hi = np.round(lo), np.where(np.isfinite(hi), np.round(hi), hi)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = lifelines.KaplanMeierFitter().fit_interval_censoring(lo, hi, tol=1e-12)
    ours = TurnbullNPMLE(closed="both").fit(lo, hi)
    assert list(ours.survival_function_.columns) == list(km.survival_function_.columns)
    np.testing.assert_array_equal(ours.survival_function_.index, km.survival_function_.index)
    np.testing.assert_allclose(ours.survival_function_, km.survival_function_, atol=1e-6)
    assert ours.median_survival_time_ == float(km.median_survival_time_.iloc[0, 0])
