"""Calibration machinery: priors with sources, the likelihood, a deterministic fit, leave-one-study-out."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest

from wearoff.inference.calibrate import fit, leave_one_study_out
from wearoff.inference.evidence import read_arms
from wearoff.inference.likelihood import binomial_logit_normal, fit_rows, log_likelihood
from wearoff.inference.metrics import Scored, accuracy
from wearoff.inference.workflow import load_validation, store_validation
from wearoff.model.parameters import Parameters, load_priors, shipped_parameters_path


def test_every_prior_names_its_source() -> None:
    priors = load_priors()
    for prior in [*priors.scalars.values(), *priors.families.values()]:
        assert len(prior.source) > 10, prior.name
        assert prior.sd >= 0


def test_shipped_parameters_record_their_fit(evidence_path, params) -> None:
    assert shipped_parameters_path().exists(), "run `wearoff calibrate` to ship parameters"
    prov = params.provenance
    assert prov["evidence_sha256"] == hashlib.sha256(evidence_path.read_bytes()).hexdigest()
    assert prov["rows_fitted"] > 50
    assert prov["converged"], prov["optimiser"]
    for name in params.values:
        load_priors().prior(name)  # every fitted parameter has a prior with a source


def test_binomial_logit_normal_is_a_distribution() -> None:
    n = 40
    k = np.arange(n + 1, dtype=float)
    total = np.exp(binomial_logit_normal(k, np.full(n + 1, n), np.full(n + 1, 0.3), 0.5)).sum()
    assert total == pytest.approx(1.0, abs=1e-6)
    # with no heterogeneity it is the binomial
    assert binomial_logit_normal(np.array([3.0]), np.array([10.0]), np.array([0.3]), 1e-9)[0] == pytest.approx(
        math.log(120 * 0.3**3 * 0.7**7), rel=1e-6
    )


@pytest.mark.parametrize(
    ("note", "points"),
    [
        ("5-point Merz scale; read off a Kaplan-Meier graph", 5),
        ("Merz 5-point scale, independent photo rater", 5),
        ("rated on a five-point scale", 5),
        ("15-point scale", 4),
        ("placebo arm", 4),
        ("", 4),
    ],
)
def test_the_note_says_the_severity_scale(note: str, points: int) -> None:
    """A row's note names a 5-point scale where the trial used one (the evidence README's convention); every other
    row was rated on the 4-point facial wrinkle scale."""
    from wearoff.inference.evidence import scale_points

    assert scale_points(note) == points


def test_the_evidence_rows_on_five_point_scales(evidence_path) -> None:
    """A study rates all its rows on one scale: CIA2013's row without the note (its share of the maximal effect)
    is on the 5-point scale of its other rows, one arm with them."""
    rows = [r for r in read_arms(evidence_path) if r.arm is not None]
    five = {r.study for r in rows if r.arm.scale_points == 5}
    assert five == {"CIA2013_INCO25", "TOXINS2021_REF21_INCO_PH4"}
    assert all(r.arm.scale_points == 5 for r in rows if r.study in five)
    assert len({r.arm for r in rows if r.study == "CIA2013_INCO25"}) == 1


def test_the_fitted_parameters_beat_the_priors(evidence_path, params) -> None:
    rows = fit_rows(read_arms(evidence_path))
    assert log_likelihood(params, rows) > log_likelihood(Parameters.prior_means(), rows) + 20


@pytest.fixture(scope="module")
def small_rows(evidence_path):
    rows = read_arms(evidence_path)
    keep = {"JOSEPH2021_ABO_DOSE", "READY1_RELA", "CARRUTHERS2005_WOMEN"}
    return [r for r in rows if r.study in keep]


def test_fit_is_deterministic_and_improves_the_objective(small_rows) -> None:
    rows = fit_rows(small_rows)
    first = fit(rows, max_iter=4)
    second = fit(rows, max_iter=4)
    assert first.params.values == second.params.values
    start = Parameters.prior_means()
    assert log_likelihood(first.params, rows) > log_likelihood(start, rows)


def test_leave_one_study_out_never_sees_the_held_out_study(small_rows, params, monkeypatch) -> None:
    import wearoff.inference.calibrate as calibrate

    seen: list[set[str]] = []
    real_fit = calibrate.fit

    def spy(rows, start=None, **kwargs):
        seen.append({r.study for r in rows})
        return real_fit(rows, start, **{**kwargs, "max_iter": 2})

    monkeypatch.setattr(calibrate, "fit", spy)
    held, refits = leave_one_study_out(small_rows, params, studies=["READY1_RELA"])
    assert seen == [{"JOSEPH2021_ABO_DOSE", "CARRUTHERS2005_WOMEN"}]
    assert {h.row.study for h in held} == {"READY1_RELA"} and len(held) == 9
    assert all(h.lower90 <= h.predicted <= h.upper90 for h in held)
    assert [r.study for r in refits] == ["READY1_RELA"] and refits[0].iterations <= 2


def test_accuracy_figures() -> None:
    scored = [
        Scored("inv_ge1", 50.0, 60.0, 40.0, 70.0),
        Scored("inv_ge1", 80.0, 76.0, 81.0, 90.0),
        Scored("median_return_baseline_days", 100.0, 110.0, 90.0, 130.0),
        Scored("median_onset_days", 2.0, 3.0, 2.5, 4.0),
    ]
    acc = accuracy(scored)
    assert acc.responder_mae_points == pytest.approx(7.0)
    assert acc.duration_error == pytest.approx(0.10)
    assert acc.onset_error == pytest.approx(0.5)
    assert acc.coverage90 == pytest.approx(0.5)


def test_stored_validation_matches_the_shipped_parameters(evidence_path, params) -> None:
    path = shipped_parameters_path().with_name("validation.json")
    assert path.exists(), "run `wearoff calibrate` to store the leave-one-study-out run"
    doc = json.loads(path.read_text())
    assert doc["parameters_sha256"] == hashlib.sha256(params.to_json().encode()).hexdigest()
    # held out only if every refit without its study ran to convergence
    assert len(doc["refits"]) == len({r["study"] for r in doc["refits"]}) > 20
    assert all(r["converged"] for r in doc["refits"]), [r for r in doc["refits"] if not r["converged"]]
    stored = load_validation(path, evidence_path, params, read_arms(evidence_path))
    assert stored is not None, "the stored run does not carry each refit's parameters"
    held, refits = stored
    assert len(held) > 50 and {h.row.study for h in held} == {r.study for r in refits}
    assert all(r.parameters.values != params.values for r in refits)


def test_stored_refits_give_back_their_held_out_predictions(small_rows, evidence_path, params, tmp_path) -> None:
    held, refits = leave_one_study_out(small_rows, params, studies=["READY1_RELA"], max_iter=2)
    path = tmp_path / "validation.json"
    store_validation(path, evidence_path, params, refits)
    stored = load_validation(path, evidence_path, params, small_rows)
    assert stored is not None
    again, loaded = stored
    assert [r.study for r in loaded] == ["READY1_RELA"]
    assert loaded[0].parameters.values == pytest.approx(refits[0].parameters.values, rel=1e-12)
    assert [h.row.line for h in again] == [h.row.line for h in held]
    assert [x for h in again for x in (h.predicted, h.lower90, h.upper90)] == pytest.approx(
        [x for h in held for x in (h.predicted, h.lower90, h.upper90)], rel=1e-5
    )
    assert load_validation(path, evidence_path, params.with_values({"log_tau_ref": 4.0}), small_rows) is None


def test_objective_survives_extreme_steps(evidence_path) -> None:
    """A line search may step far outside the plausible region: the objective then says so instead of failing."""
    from wearoff.inference.calibrate import UNUSABLE, Objective

    rows = fit_rows(read_arms(evidence_path))
    names = ["log_het_days", "log_het_logit"]
    objective = Objective(rows, names)
    assert objective(np.array([400.0, 0.0])) == UNUSABLE
    assert objective(np.array([-1.0, -0.6])) < UNUSABLE


def test_gradient_predicts_again_only_the_rows_a_parameter_moves(small_rows, params) -> None:
    """The calibration's gradient recomputes an area's or a product's rows only: it must equal the gradient that
    recomputes every row."""
    from wearoff.inference.calibrate import FD_STEP, Objective, _value_and_gradient

    rows = fit_rows(small_rows)
    names = [
        "log_tau_ref",
        "log_het_logit",
        "log_het_study_potency",
        "product_need.abobotulinumtoxinA",
        "product_duration.relabotulinumtoxinA",
    ]
    objective = Objective(rows, names)
    x = np.array([params[n] for n in names])
    value, gradient = _value_and_gradient(objective, x, None)
    every_row = [(objective(x + FD_STEP * e) - value) / FD_STEP for e in np.eye(len(x))]
    assert value == pytest.approx(objective(x))
    assert gradient == pytest.approx(every_row, rel=1e-9, abs=1e-9)
    assert all(g != 0 for g in gradient)


def test_posterior_covariance_keeps_the_prior_where_no_row_informs(small_rows, params) -> None:
    from wearoff.inference.calibrate import posterior_covariance

    rows = fit_rows(small_rows)
    names = ["log_tau_ref", "product_duration.abobotulinumtoxinA", "product_duration.daxibotulinumtoxinA"]
    cov = posterior_covariance(params, rows, names, load_priors())
    sd = np.sqrt(np.diag(cov.matrix))
    assert sd[0] < load_priors().prior("log_tau_ref").sd  # informed by every row
    assert sd[1] < 0.9 * load_priors().prior("product_duration.abobotulinumtoxinA").sd  # JOSEPH2021's arms
    assert sd[2] == pytest.approx(load_priors().prior("product_duration.daxibotulinumtoxinA").sd)  # no daxi row
    assert np.allclose(cov.matrix, cov.matrix.T) and np.all(np.linalg.eigvalsh(cov.matrix) > 0)


def test_whole_day_rows_are_likely_only_within_their_day(params) -> None:
    """A median onset reported as day 2 says the trial's median lies within (1, 2]."""
    from wearoff.inference.likelihood import FitRow, row_log_likelihoods
    from wearoff.model.arms import Arm
    from wearoff.model.endpoints import reported_day

    arm = Arm("abobotulinumtoxinA", "glabellar", 50, 90, 80)
    row = FitRow("X", arm, "median_onset_days", None, 2.0, 1.0)
    inside, before, after = (row_log_likelihoods(params, [row], np.array([d]))[0] for d in (1.5, 0.6, 4.0))
    assert inside < 0 and inside > before and inside > after
    assert [reported_day(d) for d in (0.3, 1.0, 1.2, 2.0, 2.01)] == [1.0, 1.0, 2.0, 2.0, 3.0]


def test_intervals_carry_the_uncertainty_of_the_fitted_parameters(params) -> None:
    from dataclasses import replace

    from wearoff.model.arms import Arm, predict_arms

    assert params.covariance is not None, "the shipped parameters carry their posterior covariance"
    arms = [Arm("onabotulinumtoxinA", "glabellar", 20, 90, 2000), Arm("onabotulinumtoxinA", "forehead", 20, 90, 2000)]
    codes, days = ["inv_ge1", "inv_ge1"], [120.0, 120.0]
    with_uncertainty = predict_arms(params, arms, codes, days)
    without = predict_arms(replace(params, covariance=None), arms, codes, days)
    for a, b in zip(with_uncertainty, without, strict=True):
        assert a.predicted == b.predicted
        assert a.upper90 - a.lower90 > b.upper90 - b.lower90


def test_a_share_near_zero_keeps_a_band_near_zero(params) -> None:
    """Parameter uncertainty is carried through the model at draws from the posterior, on a logit scale floored at
    one patient in 500: a relapse share of a percent just after the responders are counted is uncertain in relative
    terms, but its band must not open to half the arm (a tangent at such a share extrapolates its steepest slope;
    secants over one sd of each parameter in turn put its upper bound at 40 % of 20 patients)."""
    from wearoff.model.arms import Arm, predict_arms

    arm = Arm("onabotulinumtoxinA", "glabellar", 10, 100, 20)
    shares = predict_arms(params, [arm] * 6, ["returned_to_baseline"] * 6, [30.0, 35.0, 40.0, 45.0, 50.0, 55.0])
    early = next(s for s in shares if s.predicted > 0.2)  # the first of these days a few patients are back
    assert early.predicted < 5.0
    assert early.upper90 <= 30.0


@pytest.mark.parametrize(
    ("units", "code", "day"), [(10, "returned_to_baseline", 40.0), (20, "inv_none_mild", 120.0), (20, "inv_ge1", 30.0)]
)
def test_parameter_spread_agrees_with_plain_monte_carlo(params, units: int, code: str, day: float) -> None:
    """The quasi-random draws of the band give the spread that 400 pseudo-random draws from the same posterior
    give, about the point prediction, within a fifth: in a tail, in the middle and near the top of a share."""
    from wearoff.model.arms import Arm, arm_values, covariance_root, link_moves, prediction_variance

    arm = Arm("onabotulinumtoxinA", "glabellar", units, 100, 100)
    value = arm_values(params, [arm], [code], [day])
    quasi = float(np.sqrt(prediction_variance(params, [arm], [code], [day], value).fitted[0]))
    names = list(params.covariance.names)
    draws = np.random.default_rng(7).standard_normal((400, len(names))) @ covariance_root(params.covariance.matrix).T
    plain = float(np.sqrt(np.mean(link_moves(params, names, draws, [arm], [code], [day], value) ** 2)))
    assert quasi == pytest.approx(plain, rel=0.2)


def test_trials_without_effects_of_their_own_are_sums_of_independent_rows(small_rows, params) -> None:
    """With no between-trial spread of potency, duration or rating the likelihood is the weighted sum of the rows'
    own."""
    from wearoff.inference.likelihood import predict_rows, row_log_likelihoods
    from wearoff.model.arms import STUDY_EFFECT_SDS

    rows = fit_rows(small_rows)
    flat = params.with_values(dict.fromkeys(STUDY_EFFECT_SDS, -30.0))
    weights = np.array([r.weight for r in rows])
    independent = float(np.sum(weights * row_log_likelihoods(flat, rows, predict_rows(flat, rows))))
    assert log_likelihood(flat, rows) == pytest.approx(independent, rel=1e-9)


def test_rows_of_one_trial_share_its_effects(params) -> None:
    """Two arms of one trial that both respond better than predicted are likelier together than two trials doing
    so each on its own: their trial's own potency explains both at once. Opposite deviations are less likely."""
    from dataclasses import replace

    from wearoff.inference.likelihood import FitRow, predict_rows
    from wearoff.model.arms import Arm

    arms = [Arm("onabotulinumtoxinA", "glabellar", units, 90, 60) for units in (4, 8)]
    base = [FitRow("TRIAL", arm, "inv_none_mild", 30.0, 0.0, 1.0) for arm in arms]
    predicted = predict_rows(params, base)
    assert np.all((predicted > 20) & (predicted < 80))

    def together_minus_apart(deviations: tuple[float, float]) -> float:
        rows = [replace(r, value=float(p + d)) for r, p, d in zip(base, predicted, deviations, strict=True)]
        apart = [replace(r, study=f"TRIAL{i}") for i, r in enumerate(rows)]
        return log_likelihood(params, rows) - log_likelihood(params, apart)

    assert together_minus_apart((15.0, 15.0)) > 0.1
    assert together_minus_apart((15.0, -15.0)) < -0.1


def test_the_product_rule_over_a_trials_effects_integrates_normal_moments() -> None:
    """The 7 x 7 x 7 rule of a trial's three effects: weights summing to 1, zero means, unit variances, no
    correlations, and the fourth moment of a normal (3), exact up to degree 13."""
    from wearoff.model.cohort import product_normal_nodes

    grid, weights = product_normal_nodes(7, 3)
    assert grid.shape == (343, 3) and weights.sum() == pytest.approx(1.0)
    assert weights @ grid == pytest.approx(np.zeros(3), abs=1e-12)
    assert (grid * weights[:, None]).T @ grid == pytest.approx(np.eye(3), abs=1e-12)
    assert weights @ grid[:, 1] ** 4 == pytest.approx(3.0)


def test_study_precision_inverts_the_shared_covariance() -> None:
    from wearoff.inference.calibrate import study_precision

    information = np.array([4.0, 1.0, 0.5])
    loadings = np.array([[1.0, 0.0], [-0.5, 1.5], [2.0, 0.3]])
    variances = np.array([0.3, 0.05])
    shared = sum(v * np.outer(loadings[:, f], loadings[:, f]) for f, v in enumerate(variances))
    precision = study_precision(information, loadings, variances)
    assert precision @ (np.diag(1.0 / information) + shared) == pytest.approx(np.eye(3))


def test_a_trials_own_potency_widens_active_arms_and_leaves_placebo_alone(params) -> None:
    """The interval of a new trial's value adds the spread of trials' potency: active arms at the peak widen with
    it, a placebo arm (no toxin, no potency) keeps its interval."""
    from wearoff.model.arms import Arm, predict_arms

    arms = [Arm("onabotulinumtoxinA", "glabellar", 10, 90, 100), Arm("placebo", "glabellar", 0, 90, 100)]
    codes, days = ["inv_none_mild", "inv_none_mild"], [30.0, 30.0]
    narrow = predict_arms(params.with_values({"log_het_study_potency": -6.0}), arms, codes, days)
    wide = predict_arms(params.with_values({"log_het_study_potency": -0.5}), arms, codes, days)
    assert wide[0].upper90 - wide[0].lower90 > narrow[0].upper90 - narrow[0].lower90 + 5.0
    assert (wide[1].lower90, wide[1].upper90) == (narrow[1].lower90, narrow[1].upper90)


def test_a_trials_own_rating_moves_rated_shares_placebo_included(params) -> None:
    """The rating shift moves every share a rater grades on the severity scale by one logit per unit, placebo arms
    too, and nothing no one grades (a Kaplan-Meier share, a median day); it widens a placebo arm's interval."""
    from wearoff.model.arms import Arm, arm_values, predict_arms, study_loadings

    active, placebo = Arm("onabotulinumtoxinA", "glabellar", 20, 90, 100), Arm("placebo", "glabellar", 0, 90, 100)
    arms = [active, placebo, active, active]
    codes = ["composite_ge2", "inv_none_mild", "km_not_returned", "median_duration_days"]
    days = [30.0, 30.0, 120.0, None]
    loadings = study_loadings(params, arms, codes, days, arm_values(params, arms, codes, days))
    assert loadings[:, -1].tolist() == [1.0, 1.0, 0.0, 0.0]
    narrow = predict_arms(params.with_values({"log_het_study_rating": -6.0}), [placebo], codes[1:2], days[1:2])[0]
    wide = predict_arms(params.with_values({"log_het_study_rating": 0.0}), [placebo], codes[1:2], days[1:2])[0]
    assert wide.upper90 - wide.lower90 > narrow.upper90 - narrow.lower90 + 3.0


def test_a_trials_own_duration_moves_its_late_rows_not_its_peak(params) -> None:
    """The duration shift's loading (log EC50's and log tau's derivatives, in that order) is small at the peak
    of the response and large once patients return; the potency's is felt at both."""
    from wearoff.model.arms import STUDY_EFFECTS, Arm, arm_values, study_loadings
    from wearoff.model.cohort import RESPONSE_DAY

    assert [name for name, _ in STUDY_EFFECTS] == ["log_ec50", "log_tau_ref"]
    arm = Arm("onabotulinumtoxinA", "glabellar", 20, 90, 100)
    codes, days = ["inv_ge1", "inv_ge1"], [RESPONSE_DAY / 2, 150.0]
    values = arm_values(params, [arm, arm], codes, days)
    loadings = study_loadings(params, [arm, arm], codes, days, values)
    peak, late = np.abs(loadings)
    assert late[1] > 0.5 and late[1] > 5 * peak[1]
    assert peak[0] > 0.1 and late[0] > 0.1


def test_the_heterogeneities_curvature_is_the_objectives_own(small_rows, params) -> None:
    """A heterogeneity moves no prediction: the objective with the rows' predictions held is the objective itself
    wherever only heterogeneities move, and their curvature block agrees with second differences of the full
    objective, symmetric and positive definite."""
    from wearoff.inference.calibrate import HETEROGENEITY_STEP, Objective, heterogeneity_curvature

    rows = fit_rows(small_rows)
    names = load_priors().fitted_names({r.arm.area for r in rows}, {r.arm.product for r in rows})
    objective = Objective(rows, names)
    x = np.array([params[n] for n in names])
    positions, block = heterogeneity_curvature(objective, x)
    assert [names[i] for i in positions] == [n for n in names if n.startswith("log_het_")]
    moved = x.copy()
    moved[positions] += 0.3
    assert objective.held(moved, objective.terms(x)) == pytest.approx(objective(moved), rel=1e-12)
    step = np.zeros_like(x)
    step[positions[0]] = HETEROGENEITY_STEP
    second = (objective(x + step) - 2.0 * objective(x) + objective(x - step)) / HETEROGENEITY_STEP**2
    assert block[0, 0] == pytest.approx(second, rel=1e-6)
    assert block == pytest.approx(block.T)
    assert np.all(np.linalg.eigvalsh(block) > 0)


def test_the_shipped_covariance_is_what_the_calibration_computes(evidence_path, params) -> None:
    """The covariance in the parameter file is the Laplace covariance the code computes at the shipped values, and
    the evidence narrows every heterogeneity's log sd below its prior's sd."""
    from wearoff.inference.calibrate import posterior_covariance
    from wearoff.model.arms import heterogeneity_sd

    names = list(params.covariance.names)
    again = posterior_covariance(params, fit_rows(read_arms(evidence_path)), names, load_priors())
    assert again.matrix == pytest.approx(params.covariance.matrix, rel=1e-4, abs=1e-12)
    for name in (n for n in names if n.startswith("log_het_")):
        assert 0.0 < heterogeneity_sd(params, name).log_sd <= load_priors().prior(name).sd, name


def test_an_uncertain_heterogeneity_widens_a_new_trials_interval(params) -> None:
    """Integrating over the heterogeneities' posterior, rather than fixing them at their fitted values, leaves
    the predictions where they are and widens the intervals of a new trial's share and median day."""
    from dataclasses import replace

    from wearoff.model.arms import Arm, predict_arms
    from wearoff.model.parameters import Covariance

    names = params.covariance.names
    het = [i for i, n in enumerate(names) if n.startswith("log_het_")]
    known = params.covariance.matrix.copy()
    known[het, :] = 0.0
    known[:, het] = 0.0
    fixed = replace(params, covariance=Covariance(names, known))
    arms = [Arm("onabotulinumtoxinA", "glabellar", 20, 90, 200), Arm("abobotulinumtoxinA", "glabellar", 50, 90, 200)]
    codes, days = ["inv_none_mild", "median_duration_days"], [30.0, None]
    uncertain, certain = predict_arms(params, arms, codes, days), predict_arms(fixed, arms, codes, days)
    for a, b in zip(uncertain, certain, strict=True):
        assert a.predicted == b.predicted
        assert a.lower90 <= b.lower90 and a.upper90 >= b.upper90
        assert a.upper90 - a.lower90 > b.upper90 - b.lower90
