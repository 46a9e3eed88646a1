"""IntervalAFT: recovery of known parameters, interval coverage, random intercepts, predictions, input checks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wearoff.survival import IntervalAFT, negative_log_likelihood

from .conftest import TRUE, simulate_groups, simulate_rows

FAMILIES = ["weibull", "loglogistic", "lognormal"]
NAMES = ["intercept", "dose", "male", "log_scale"]


@pytest.mark.parametrize("family", FAMILIES)
def test_recovers_the_parameters(family: str) -> None:
    df = simulate_rows(family, 4000, seed=11)
    model = IntervalAFT(family).fit(df, "lo", "hi", ["dose", "male"])
    assert model.converged_
    assert list(model.params_.index) == NAMES
    z = (model.params_ - pd.Series(TRUE)) / model.standard_errors_
    assert np.all(np.abs(z) < 4.0), z
    assert model.standard_errors_["dose"] < 0.02
    assert model.scale_ == pytest.approx(math.exp(model.params_["log_scale"]))
    assert model.sigma_ is None and model.random_effects_ is None


@pytest.mark.parametrize("family", FAMILIES)
def test_wald_intervals_cover_near_the_nominal_rate(family: str) -> None:
    """100 small replicates: each parameter's 95 % interval covers the truth 88-99 % of the time."""
    hits = np.zeros(len(NAMES))
    for rep in range(100):
        df = simulate_rows(family, 200, seed=1000 + rep)
        ci = IntervalAFT(family).fit(df, "lo", "hi", ["dose", "male"]).confidence_intervals_
        truth = np.array([TRUE[k] for k in NAMES])
        hits += (ci.iloc[:, 0].to_numpy() <= truth) & (truth <= ci.iloc[:, 1].to_numpy())
    coverage = hits / 100
    assert np.all((coverage >= 0.88) & (coverage <= 0.99)), dict(zip(NAMES, coverage, strict=True))


def test_log_likelihood_is_the_sum_of_row_terms_at_the_estimate() -> None:
    df = simulate_rows("weibull", 800, seed=12)
    model = IntervalAFT().fit(df, "lo", "hi", ["dose", "male"])
    X = np.column_stack([np.ones(len(df)), df["dose"], df["male"]])
    direct = negative_log_likelihood(model.params_.to_numpy(), X, df["lo"].to_numpy(), df["hi"].to_numpy(), "weibull")
    assert model.log_likelihood_ == pytest.approx(-direct.value, rel=1e-12)
    # the estimate is a stationary point on the original scale too
    assert np.max(np.abs(direct.gradient)) < 1e-4
    assert pytest.approx(-2 * model.log_likelihood_ + 2 * 4) == model.AIC_


def test_estimates_do_not_depend_on_covariate_units() -> None:
    """Internal centring and scaling: days-per-unit covariates give the same fit, coefficients rescaled."""
    df = simulate_rows("lognormal", 1500, seed=13)
    base = IntervalAFT("lognormal").fit(df, "lo", "hi", ["dose", "male"])
    scaled = df.assign(dose=df["dose"] * 1000.0 + 5e4)
    other = IntervalAFT("lognormal").fit(scaled, "lo", "hi", ["dose", "male"])
    assert other.log_likelihood_ == pytest.approx(base.log_likelihood_, rel=1e-10)
    assert other.params_["dose"] * 1000.0 == pytest.approx(base.params_["dose"], rel=1e-7)
    assert other.standard_errors_["dose"] * 1000.0 == pytest.approx(base.standard_errors_["dose"], rel=1e-6)
    assert other.params_["log_scale"] == pytest.approx(base.params_["log_scale"], abs=1e-8)


def test_uninformative_rows_change_nothing() -> None:
    df = simulate_rows("weibull", 600, seed=14)
    extra = pd.DataFrame({"dose": [0.1, -1.0], "male": [0.0, 1.0], "lo": [0.0, 0.0], "hi": [np.inf, np.inf]})
    a = IntervalAFT().fit(df, "lo", "hi", ["dose", "male"])
    b = IntervalAFT().fit(pd.concat([df, extra], ignore_index=True), "lo", "hi", ["dose", "male"])
    assert b.n_events_by_kind_["uninformative"] == 2
    assert b.log_likelihood_ == pytest.approx(a.log_likelihood_, rel=1e-12)
    np.testing.assert_allclose(b.params_, a.params_, atol=1e-8)


def test_intercept_only_model() -> None:
    df = simulate_rows("weibull", 500, seed=15)
    model = IntervalAFT().fit(df, "lo", "hi")
    assert list(model.params_.index) == ["intercept", "log_scale"]
    assert model.summary.shape == (2, 7)


@pytest.mark.parametrize("family", ["weibull", "loglogistic"])
def test_random_intercept_sd_is_recovered(family: str) -> None:
    df, effect = simulate_groups(family, 1500, 3, tau=0.3, seed=16)
    model = IntervalAFT(family).fit(df, "lo", "hi", ["dose"], group_col="patient")
    assert model.converged_
    assert list(model.params_.index) == ["intercept", "dose", "log_scale", "log_sigma_re"]
    se_tau = model.sigma_ * model.standard_errors_["log_sigma_re"]
    assert abs(model.sigma_ - 0.3) < max(3 * se_tau, 0.03)
    assert model.scale_ == pytest.approx(0.3, abs=0.03)
    assert model.params_["dose"] == pytest.approx(0.3, abs=0.03)
    # empirical Bayes effects: indexed by patient, shrunk towards zero, correlated with the truth
    assert model.random_effects_.index[0] == "p00000" and len(model.random_effects_) == 1500
    assert np.corrcoef(model.random_effects_.to_numpy(), effect)[0, 1] > 0.6
    assert model.random_effects_.std() < np.std(effect)


def test_non_identified_random_effect_is_flagged() -> None:
    """Log-normal with one row per group: only sigma^2 + tau^2 is identified, and the fit says so."""
    df, _ = simulate_groups("lognormal", 3000, 1, tau=0.2, seed=17)
    with pytest.warns(RuntimeWarning, match="standard errors are NaN"):
        model = IntervalAFT("lognormal").fit(df, "lo", "hi", ["dose"], group_col="patient")
    assert math.hypot(model.scale_, model.sigma_) == pytest.approx(math.hypot(0.3, 0.2), abs=0.02)
    assert model.standard_errors_.isna().all()


@pytest.mark.parametrize("family", FAMILIES)
def test_predictions_are_consistent(family: str) -> None:
    df = simulate_rows(family, 1000, seed=18)
    model = IntervalAFT(family).fit(df, "lo", "hi", ["dose", "male"])
    new = pd.DataFrame({"dose": [-1.0, 0.0, 1.5], "male": [0.0, 1.0, 0.0]}, index=["a", "b", "c"])
    median = model.predict_median(new)
    assert list(median.index) == ["a", "b", "c"]
    np.testing.assert_allclose(median, model.predict_percentile(new, 0.5))
    surv = model.predict_survival(new, [10.0, 50.0, 100.0, 200.0])
    assert surv.shape == (4, 3) and list(surv.columns) == ["a", "b", "c"]
    assert np.all(np.diff(surv.to_numpy(), axis=0) < 0)
    for key, m in median.items():
        assert model.predict_survival(new.loc[[key]], [m]).iloc[0, 0] == pytest.approx(0.5, abs=1e-12)
    # a longer-lasting dose lasts longer at every quantile; percentiles fall as the survival probability rises
    assert median["c"] > median["a"]
    assert np.all(model.predict_percentile(new, 0.8) < median)
    assert np.all(model.predict_percentile(new, 0.2) > median)


def test_grouped_predictions_marginal_and_conditional() -> None:
    df, _ = simulate_groups("weibull", 400, 3, tau=0.4, seed=19)
    model = IntervalAFT().fit(df, "lo", "hi", ["dose"], group_col="patient")
    new = pd.DataFrame({"dose": [0.0, 0.0, 0.0], "patient": ["p00001", "p00002", "new patient"]})
    marginal = model.predict_median(new)
    conditional = model.predict_median(new, conditional=True)
    assert marginal.nunique() == 1  # same covariates, marginal over the random intercept
    # a seen patient: the conditional curve puts the posterior-mean effect into the location
    z_half = math.log(math.log(2.0))  # Weibull: S(z) = 1/2
    for i, pid in enumerate(["p00001", "p00002"]):
        expected = math.exp(model.params_["intercept"] + model.random_effects_[pid] + model.scale_ * z_half)
        assert conditional.iloc[i] == pytest.approx(expected, rel=1e-12)
    assert conditional.iloc[2] == pytest.approx(marginal.iloc[2])  # an unseen patient stays marginal
    for frame, cond in ((new, False), (new, True)):
        med = model.predict_median(frame, conditional=cond)
        at_median = [
            model.predict_survival(frame.iloc[[i]], [med.iloc[i]], conditional=cond).iloc[0, 0] for i in range(3)
        ]
        np.testing.assert_allclose(at_median, 0.5, atol=1e-9)


def test_marginal_survival_matches_monte_carlo() -> None:
    df, _ = simulate_groups("loglogistic", 400, 3, tau=0.5, seed=20)
    model = IntervalAFT("loglogistic").fit(df, "lo", "hi", ["dose"], group_col="patient")
    rng = np.random.default_rng(0)
    mu = model.params_["intercept"] + model.sigma_ * rng.normal(size=400_000)
    times = np.array([30.0, 80.0, 150.0])
    z = (np.log(times)[:, None] - mu[None, :]) / model.scale_
    mc = (1.0 / (1.0 + np.exp(z))).mean(axis=1)
    got = model.predict_survival(pd.DataFrame({"dose": [0.0]}), times).iloc[:, 0].to_numpy()
    np.testing.assert_allclose(got, mc, atol=3e-3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="male"), "missing column"),
        (lambda d: d.assign(lo=d["lo"].where(d.index != 3)), "missing"),
        (lambda d: d.assign(lo=d["lo"] - 1000.0), ">= 0"),
        (lambda d: d.assign(lo=np.where(np.isfinite(d["hi"]), d["hi"] + 5.0, d["lo"])), "lo > hi"),
        (lambda d: d.assign(male=np.where(d["male"] > 0, "m", "f")), "must be numeric"),
        (lambda d: d.assign(male=1.0), "constant"),
        (lambda d: d.assign(dose=d["dose"].where(d.index != 5, np.inf)), "infinite"),
        (lambda d: d.assign(lo=0.0, hi=np.inf), "say nothing"),
        (lambda d: d.assign(hi=d["hi"].astype("Float64").where(d.index != 2, pd.NA)), "missing"),
        (lambda d: d.assign(male=d["male"].astype("Int64").where(d.index != 4, pd.NA)), "missing"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(change, message: str) -> None:
    df = simulate_rows("weibull", 50, seed=21)
    with pytest.raises(ValueError, match=message):
        IntervalAFT().fit(change(df), "lo", "hi", ["dose", "male"])


def test_other_misuse_is_refused() -> None:
    df = simulate_rows("weibull", 50, seed=22)
    with pytest.raises(ValueError, match="unknown family"):
        IntervalAFT("exponential")
    with pytest.raises(ValueError, match="reserved"):
        IntervalAFT().fit(df.rename(columns={"dose": "intercept"}), "lo", "hi", ["intercept"])
    with pytest.raises(ValueError, match="more than once"):
        IntervalAFT().fit(df, "lo", "hi", ["dose", "dose"])
    with pytest.raises(RuntimeError, match="not fitted"):
        IntervalAFT().predict_median(df)
    model = IntervalAFT().fit(df, "lo", "hi", ["dose", "male"])
    with pytest.raises(ValueError, match="group_col"):
        model.predict_median(df, conditional=True)
    with pytest.raises(ValueError, match="strictly between"):
        model.predict_percentile(df, 1.0)
    with pytest.raises(ValueError, match="missing column"):
        model.predict_median(df[["dose"]])


def test_no_between_group_variation_ends_at_the_boundary() -> None:
    df, _ = simulate_groups("weibull", 1000, 3, tau=0.0, seed=3)
    model = IntervalAFT().fit(df, "lo", "hi", ["dose"], group_col="patient")
    assert model.converged_
    assert model.sigma_ < 0.05
    assert model.params_["dose"] == pytest.approx(0.3, abs=0.02)
    assert model.scale_ == pytest.approx(0.3, abs=0.015)
