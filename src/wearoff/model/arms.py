r"""Published trial arms: the model's prediction of an arm-level number and its 90 % interval.

An arm is a group of patients given one product at one dose in one area, with a share of women. Its
predicted value mixes a cohort of women and a cohort of men (:mod:`wearoff.model.mixture`).

The interval is that of the *observed* arm-level value: between-trial heterogeneity (populations, raters,
definitions differ between trials) plus sampling with the arm's *n*:

* percent endpoints: :math:`\operatorname{logit} p^* = \operatorname{logit} p + \sigma_{het}\zeta`,
  :math:`k \sim \operatorname{Binomial}(n, p^*)`, value = :math:`100 k/n`;
* day endpoints: :math:`\log d^* \sim N\big(\log d,\ \sigma_{het,d}^2 + \tfrac{\pi}{2}\,s^2/n\big)`, with *s* the
  spread of log days between patients (the asymptotic variance of a sample median).

Both scales add the trial's own potency and duration (:func:`study_loadings`, evaluated at the nodes of
:func:`study_node_values`), rated shares the trial's own rating shift (a further logit-normal term, sd
:math:`\sigma_{rating}`), and the uncertainty of the parameters (:func:`prediction_variance`).

Every between-trial sd enters with its own posterior uncertainty, :math:`\log\sigma \sim N(\hat m, s^2)` from
the calibration's covariance (:func:`heterogeneity_sd`): a new trial's shift is then a scale mixture of normals,
heavier-tailed than the fitted sd alone says, integrated by the Gauss rules of :mod:`wearoff.model.quadrature`
(the prediction interval of a random-effects meta-analysis, Higgins, Thompson & Spiegelhalter, J R Stat Soc A
2009;172:137-159). On the shared evidence the sds are known to 0.21-0.26 on the log scale, the rating shift's
to 0.49 (its prior's 0.5: the arms say little about it).

Arms whose *n* the source did not give are treated as ``DEFAULT_ARM_SIZE`` patients.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import bdtr, expit, logit, ndtr, ndtri
from scipy.stats import qmc

from wearoff.catalog import Catalog, load_catalog
from wearoff.model.cohort import (
    Cohorts,
    grade_size,
    population_cohorts,
)
from wearoff.model.endpoints import ENDPOINTS, reported_day
from wearoff.model.parameters import FAMILIES, REFERENCE_AREA, REFERENCE_PRODUCT, Parameters
from wearoff.model.quadrature import UncertainSd, sd_mixture, shift_rule
from wearoff.model.treatment import Treatment, covariates_for

DEFAULT_ARM_SIZE = 50
"""Patients assumed in an arm whose size the source does not give (a small phase-2 arm; widens the interval)."""
N_HETEROGENEITY_NODES = 32
PROB_FLOOR = 1e-4


@dataclass(frozen=True)
class Arm:
    """The design of a published arm (what the evidence CSV says of it, less the outcome)."""

    product: str
    area: str
    units: float
    female_pct: float | None = None
    n: int | None = None
    scale_points: int = 4
    """Points of the severity scale the arm was rated on: 4 (0 none to 3 severe) or 5 (:func:`grade_size`)."""

    def female_share(self, catalog: Catalog) -> float:
        """Share of women: the arm's, or the area's typical share where the source did not give it."""
        pct = self.female_pct if self.female_pct is not None else catalog.area(self.area).typical_female_pct.value
        return min(max(pct / 100.0, 0.0), 1.0)


def arm_cohorts(params: Parameters, arms: list[Arm], catalog: Catalog | None = None) -> Cohorts:
    """One group per arm, mixing its women and men by the arm's share of women, rated on the arm's scale."""
    catalog = catalog or load_catalog()
    treatments = [Treatment(arm.product, arm.area, arm.units, sex=sex) for arm in arms for sex in ("female", "male")]
    mix = np.array([[f, 1.0 - f] for f in (arm.female_share(catalog) for arm in arms)])
    grade = np.array([grade_size(arm.scale_points) for arm in arms])
    return population_cohorts(params, covariates_for(treatments, params, catalog), mix, grade=grade)


@dataclass(frozen=True)
class ArmPrediction:
    """Predicted arm-level value and the 90 % interval of the value a trial would observe."""

    predicted: float
    lower90: float
    upper90: float


def predict_values(cohorts: Cohorts, endpoints: list[str], days: list[float | None]) -> np.ndarray:
    """The model's value of each (group, endpoint, day) row: group i of ``cohorts`` for row i."""
    out = np.full(len(endpoints), np.nan)
    codes = np.asarray(endpoints)
    day_array = np.array([np.nan if d is None else d for d in days], float)
    for code in set(endpoints):
        rows = np.flatnonzero(codes == code)
        spec = ENDPOINTS[code]
        if spec.needs_day and not np.all(np.isfinite(day_array[rows])):
            raise ValueError(f"endpoint {code} needs a day")
        out[rows] = spec.compute(cohorts.take(rows), day_array[rows])
    return out


def arm_values(
    params: Parameters,
    arms: list[Arm],
    endpoints: list[str],
    days: list[float | None],
    catalog: Catalog | None = None,
) -> np.ndarray:
    """The model's value of each (arm, endpoint, day) row, the cohort of every distinct arm built once."""
    unique = list(dict.fromkeys(arms))
    position = {arm: i for i, arm in enumerate(unique)}
    return predict_values(arm_cohorts(params, unique, catalog).take([position[a] for a in arms]), endpoints, days)


def _percent_interval(
    p: np.ndarray, weights: np.ndarray, n: int, shifts: np.ndarray, shift_weights: np.ndarray
) -> tuple[float, float]:
    """5 % and 95 % quantiles of 100 k/n when the trial's rate is one of ``p`` (weights ``weights``: its own
    effects), its logit moves further by one of ``shifts`` (weights ``shift_weights``) and k is binomial."""
    p_star = expit(logit(np.clip(p, PROB_FLOOR, 1 - PROB_FLOOR))[:, None] + shifts[None, :]).ravel()
    mass = (weights[:, None] * shift_weights[None, :]).ravel()
    k = np.arange(n + 1)
    cdf = np.sum(mass[:, None] * bdtr(k[None, :], n, p_star[:, None]), axis=0)
    lower = k[np.searchsorted(cdf, 0.05)]
    upper = k[min(np.searchsorted(cdf, 0.95), n)]
    return 100.0 * float(lower) / n, 100.0 * float(upper) / n


def _log_normal_mixture_quantile(log_values: np.ndarray, weights: np.ndarray, sds: np.ndarray, q: float) -> float:
    """The *q* quantile of a mixture of log-normals (log medians ``log_values``, weights ``weights``, sds ``sds``,
    all of one shape)."""

    def excess(x: float) -> float:
        return float(np.sum(weights * ndtr((x - log_values) / sds))) - q

    low, high = float(np.min(log_values - 10.0 * sds)), float(np.max(log_values + 10.0 * sds))
    return math.exp(brentq(excess, low, high, xtol=1e-10))


def days_heterogeneity(endpoint: str) -> str:
    """The between-trial heterogeneity of a day endpoint's log: onset days' own, or that of wear-off days."""
    return "log_het_onset" if "onset" in endpoint else "log_het_days"


def days_sampling_variance(params: Parameters, endpoint: str, n: int) -> float:
    r"""Variance of the log of a median of *n* patients' days: :math:`(\pi/2)\,s^2/n`, *s* the spread of log days
    between patients (the asymptotic variance of a sample median of normals)."""
    spread = math.exp(params["log_onset_sd"] if "onset" in endpoint else params["log_sigma_tau"])
    return (math.pi / 2.0) * spread**2 / n


def days_log_sd(params: Parameters, endpoint: str, n: int) -> float:
    """Sd of the log of an arm-level day value: between-trial heterogeneity plus the median's sampling error."""
    het = math.exp(params[days_heterogeneity(endpoint)])
    return math.sqrt(het**2 + days_sampling_variance(params, endpoint, n))


def heterogeneity_sd(params: Parameters, name: str, loading: float = 1.0) -> UncertainSd:
    """A fitted between-trial sd as its log and the posterior sd of that log (0 when the parameters carry no
    covariance for it): what :mod:`wearoff.model.quadrature` integrates over."""
    covariance = params.covariance
    spread = 0.0
    if covariance is not None and name in covariance.names:
        i = covariance.names.index(name)
        spread = math.sqrt(max(float(covariance.matrix[i, i]), 0.0))
    return UncertainSd(params[name], spread, loading)


def arm_interval(
    params: Parameters,
    values: np.ndarray,
    weights: np.ndarray,
    endpoint: str,
    n: int | None,
    extra_var: float = 0.0,
) -> tuple[float, float]:
    """90 % interval of the value a new trial of *n* patients would observe (see the module docstring): its value
    before heterogeneity and sampling is one of ``values`` with probabilities ``weights`` (the nodes of its own
    potency and duration, :func:`study_node_values`); ``extra_var`` adds parameter uncertainty on the logit
    (percent) or log (days) scale. The row's heterogeneities (between arms, and a rated share's rating shift)
    enter with their posterior uncertainty (:func:`heterogeneity_sd`, :mod:`wearoff.model.quadrature`)."""
    n = n or DEFAULT_ARM_SIZE
    values = np.asarray(values, float)
    if not np.all(np.isfinite(values)):
        return float("nan"), float("nan")
    if ENDPOINTS[endpoint].unit == "percent":
        terms = [heterogeneity_sd(params, "log_het_logit")]
        if ENDPOINTS[endpoint].rated:
            terms.append(heterogeneity_sd(params, STUDY_RATING_SD))
        shifts, shift_weights = shift_rule(terms, N_HETEROGENEITY_NODES, extra_var)
        return _percent_interval(values / 100.0, weights, n, shifts, shift_weights)
    sds, sd_weights = sd_mixture(
        [heterogeneity_sd(params, days_heterogeneity(endpoint))],
        days_sampling_variance(params, endpoint, n) + extra_var,
    )
    log_values = np.repeat(np.log(np.maximum(values, 1e-9)), sds.size)
    mixture_weights = np.outer(weights, sd_weights).ravel()
    mixture_sds = np.tile(sds, values.size)
    lower = _log_normal_mixture_quantile(log_values, mixture_weights, mixture_sds, 0.05)
    upper = _log_normal_mixture_quantile(log_values, mixture_weights, mixture_sds, 0.95)
    return lower, upper


def _unfitted_terms(params: Parameters, arm: Arm) -> list[str]:
    """The arm's area and product parameters that no evidence fitted (their prior stands in)."""
    names = []
    for family in FAMILIES:
        code = _family_code(family, arm)
        if code in (REFERENCE_AREA, REFERENCE_PRODUCT, "placebo"):
            continue
        name = f"{family}.{code}"
        if not params.is_fitted(name) and params.priors.prior(name).sd > 0:
            names.append(name)
    return names


SCALE_FLOOR = 0.002
"""Shares nearer 0 or 1 than this count as this on the logit scale of the parameters' spread (:func:`_scale`): one
patient in 500, below the resolution of any arm in the evidence. Without it a curve at 1e-6 that moves to 1e-5
would carry 2.3 logits of parameter uncertainty, and its band would open to 100 %."""


def _scale(values: np.ndarray, endpoints: list[str], floor: float = SCALE_FLOOR) -> np.ndarray:
    """Predictions on the scale their uncertainty adds on: logit for percents (within ``floor`` of 0 and 1), log
    for days."""
    percent = np.array([ENDPOINTS[e].unit == "percent" for e in endpoints])
    clipped = np.clip(values / 100.0, floor, 1 - floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(percent, logit(clipped), np.log(np.maximum(values, 1e-9)))


JACOBIAN_STEP = 1e-3
"""Forward-difference step (on each parameter's own unconstrained scale) of :func:`prediction_jacobian`: a
hundredth of the smallest prior sd, far above the model's round-off."""


def _family_code(family: str, arm: Arm) -> str:
    """The arm's code in a family of terms: its area for ``area_*`` families, its product otherwise."""
    return arm.area if family.startswith("area_") else arm.product


def is_heterogeneity(name: str) -> bool:
    """Whether a parameter is a between-trial heterogeneity: it widens intervals and moves no prediction."""
    return name.startswith("log_het_")


def rows_moved_by(name: str, arms: list[Arm]) -> np.ndarray | None:
    """Indices of the arms whose predictions a parameter can move: an area's or a product's terms move only the
    arms of that area or product, the between-trial heterogeneities move none, every other parameter all of them
    (``None``)."""
    if is_heterogeneity(name):
        return np.array([], int)
    family, _, code = name.partition(".")
    if not code:
        return None
    return np.array([i for i, arm in enumerate(arms) if _family_code(family, arm) == code], int)


def _moved_predictions(
    params: Parameters,
    name: str,
    value: float,
    rows: np.ndarray,
    arms: list[Arm],
    endpoints: list[str],
    days: list[float | None],
    catalog: Catalog | None,
    floor: float,
) -> np.ndarray:
    """The predictions of ``rows`` (on the :func:`_scale` floored at ``floor``) with one parameter set to
    ``value``."""
    codes = [endpoints[i] for i in rows]
    moved = arm_values(
        params.with_values({name: value}), [arms[i] for i in rows], codes, [days[i] for i in rows], catalog
    )
    return _scale(moved, codes, floor)


def prediction_jacobian(
    params: Parameters,
    names: list[str],
    arms: list[Arm],
    endpoints: list[str],
    days: list[float | None],
    values: np.ndarray,
    catalog: Catalog | None = None,
    *,
    spans: np.ndarray | None = None,
    floor: float = SCALE_FLOOR,
) -> np.ndarray:
    """(rows, names) derivatives of the predictions, on the scale their uncertainty adds on (logit of percents,
    log of days); a parameter's column is computed on the rows it moves only.

    Without ``spans``, forward differences (the tangent at the parameters). With ``spans``, secants over
    ``value ± span`` of each parameter: where a prediction saturates within a span (a share near 0 or 1), the
    secant measures how far it really moves, where the tangent would extrapolate its steepest slope. Shares are
    taken on a logit floored at ``floor`` (:func:`_scale`)."""
    base = _scale(values, endpoints, floor)
    out = np.zeros((len(arms), len(names)))
    for j, name in enumerate(names):
        moved = rows_moved_by(name, arms)
        rows = np.arange(len(arms)) if moved is None else moved
        if rows.size == 0:
            continue
        here = params[name]
        if spans is None:
            up = _moved_predictions(params, name, here + JACOBIAN_STEP, rows, arms, endpoints, days, catalog, floor)
            out[rows, j] = np.nan_to_num((up - base[rows]) / JACOBIAN_STEP)
        elif spans[j] > 0:
            up = _moved_predictions(params, name, here + spans[j], rows, arms, endpoints, days, catalog, floor)
            down = _moved_predictions(params, name, here - spans[j], rows, arms, endpoints, days, catalog, floor)
            out[rows, j] = np.nan_to_num((up - down) / (2.0 * spans[j]))
    return out


STUDY_EFFECTS = (("log_ec50", "log_het_study_potency"), ("log_tau_ref", "log_het_study_duration"))
"""A trial's own effects on the model: the population parameter each shifts for all the trial's rows, and the
heterogeneity that is the shift's between-trial sd (it moves no prediction, only how trials spread)."""

STUDY_RATING_SD = "log_het_study_rating"
"""The between-trial sd of a trial's own rating shift: how much more leniently than the population its raters
grade, a shift of every rated share's logit (the trial's random intercept on the rated scale)."""

STUDY_EFFECT_SDS = (*[sd for _, sd in STUDY_EFFECTS], STUDY_RATING_SD)
"""The sds of all of a trial's own effects, in the order of the columns of :func:`study_loadings`."""


def rating_loadings(endpoints: list[str]) -> np.ndarray:
    """How far each row's logit moves per unit of its trial's rating shift: 1 for shares a rater grades on the
    severity scale (placebo arms included: their raters are the trial's), 0 for shares and days no one grades."""
    return np.array([1.0 if ENDPOINTS[e].rated else 0.0 for e in endpoints])


def study_loadings(
    params: Parameters,
    arms: list[Arm],
    endpoints: list[str],
    days: list[float | None],
    values: np.ndarray,
    catalog: Catalog | None = None,
) -> np.ndarray:
    r"""(rows, effects) How far each row moves, on the :func:`_scale` of its uncertainty, per unit of each of its
    trial's own effects (:data:`STUDY_EFFECT_SDS`): a potency shift *u* (the trial's patients need :math:`e^{u}`
    times the population's dose for the same peak effect), a duration shift *v* (its effects last :math:`e^{v}`
    times as long) and a rating shift *r* (its raters grade every rated share :math:`r` logits more leniently).

    Trials differ in whom they enrol and how they rate, and all rows of a trial share that difference: a row's
    value in a trial shifted by :math:`(u, v, r)` is :math:`\operatorname{link}^{-1}(\operatorname{link}(x) +
    u\,\ell_u + v\,\ell_v + r\,\ell_r)`, a first-order expansion in the potency and duration shifts and exact
    in the rating shift (:func:`rating_loadings`). The loadings :math:`\ell_u, \ell_v` are secants over plus and
    minus a typical shift (:func:`study_spans`) rather than tangents: a share in a tail (a few patients back at
    baseline a month after treatment) is far from linear on the logit, and its tangent would carry a typical
    shift to half the arm. Placebo rows move with the rating shift only. The spans are fixed, not the fitted
    sds, so the loadings stay a function of the model's parameters alone."""
    names = [name for name, _ in STUDY_EFFECTS]
    spans = study_spans(params)
    model = prediction_jacobian(params, names, arms, endpoints, days, values, catalog, spans=spans, floor=PROB_FLOOR)
    return np.column_stack([model, rating_loadings(endpoints)])


def study_spans(params: Parameters) -> np.ndarray:
    """Half-widths of the secants of :func:`study_loadings`: each model effect's typical shift, the sd its prior
    centres on (``data/priors.toml``)."""
    return np.exp([params.priors.prior(sd).mean for _, sd in STUDY_EFFECTS])


def study_sds(params: Parameters) -> np.ndarray:
    """The between-trial sds of all the trial's own effects, in the order of :data:`STUDY_EFFECT_SDS`."""
    return np.exp([params[sd] for sd in STUDY_EFFECT_SDS])


N_STUDY_INTERVAL_NODES = 5
"""Gauss-Hermite nodes per trial effect (25 over potency and duration) of an arm's interval."""


def rating_variance(params: Parameters, endpoints: list[str]) -> np.ndarray:
    """(rows,) Variance each row's logit owes to its trial's rating shift (:data:`STUDY_RATING_SD`)."""
    return rating_loadings(endpoints) ** 2 * math.exp(2.0 * params[STUDY_RATING_SD])


def study_node_values(
    params: Parameters,
    arms: list[Arm],
    endpoints: list[str],
    days: list[float | None],
    catalog: Catalog | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, Q) the rows' values in trials shifted by each node of their own effects on the model
    (:data:`STUDY_EFFECTS`), and the nodes' (Q,) weights: the model evaluated at every node, not expanded about the
    population. Each effect's nodes are the Gauss rule of its shift with its sd's posterior uncertainty
    (:func:`heterogeneity_sd`, :func:`wearoff.model.quadrature.shift_rule`); the rating shift is a logit term of
    its own (:func:`arm_interval`)."""
    rules = [shift_rule([heterogeneity_sd(params, sd)], N_STUDY_INTERVAL_NODES) for _, sd in STUDY_EFFECTS]
    names = [name for name, _ in STUDY_EFFECTS]
    columns, weights = [], []
    for node in itertools.product(*[range(N_STUDY_INTERVAL_NODES)] * len(rules)):
        shifted = {name: params[name] + rule[0][j] for name, rule, j in zip(names, rules, node, strict=True)}
        columns.append(arm_values(params.with_values(shifted), arms, endpoints, days, catalog))
        weights.append(math.prod(rule[1][j] for rule, j in zip(rules, node, strict=True)))
    return np.stack(columns, axis=1), np.array(weights)


@dataclass(frozen=True)
class PredictionVariance:
    """Variance of each prediction on the scale of :func:`_scale`, by what it is owed to."""

    fitted: np.ndarray
    """To the fitted parameters: their posterior covariance (zeros when the parameters carry none)."""
    unfitted: np.ndarray
    """To the area and product terms no evidence fitted: their priors."""

    @property
    def total(self) -> np.ndarray:
        return self.fitted + self.unfitted


POSTERIOR_DRAWS = 64
"""Parameter draws of :func:`prediction_variance`: 32 scrambled Sobol points and their mirror images. On the 102
rows of the shared evidence the spread comes out within 10 % of 2,000 pseudo-random draws' for 97-100 % of the rows
over three scrambling seeds (the secants alone: 75 %), and for the deep-tail shares of
:func:`prediction_variance`'s docstring within 7 % (the shipped seed: within 5 %)."""

POSTERIOR_DRAW_SEED = 5
"""Seed of the Sobol scrambling: fixed, so every run gives the same bands. Seeds 2, 5 and 7 were measured (the
range under :data:`POSTERIOR_DRAWS`); 5 came closest to the pseudo-random reference and is kept."""

CONTROL_BETA_MAX = 1.5
"""Upper bound of the control variate's slope in :func:`prediction_variance` (a slope estimated from a few dozen
draws may overshoot; the exact one is near 1 for a nearly linear prediction)."""


def posterior_displacements(covariance: np.ndarray, count: int = POSTERIOR_DRAWS) -> np.ndarray:
    r"""(count, P) draws of :math:`N(0, \Sigma)`: :math:`z = \Phi^{-1}(u)` for scrambled Sobol points *u* in
    :math:`[0, 1)^P`, mapped by the square root :math:`V\Lambda^{1/2}` of the eigendecomposition (a covariance
    that is only semi-definite, a parameter pinned by its prior at zero variance, is allowed), largest
    eigenvalue first (a Sobol sequence spreads its first coordinates most evenly), in antithetic pairs
    :math:`\pm z`: the draws' odd moments vanish exactly, as the posterior's do, so the cross term of a
    prediction's linear and quadratic parts adds nothing to its spread."""
    root = covariance_root(covariance)
    uniform = qmc.Sobol(root.shape[0], scramble=True, seed=POSTERIOR_DRAW_SEED).random(count // 2)
    half = ndtri(uniform) @ root.T
    return np.vstack([half, -half])


def covariance_root(covariance: np.ndarray) -> np.ndarray:
    r"""(P, P) square root :math:`R = V\Lambda^{1/2}` of a covariance (:math:`RR^\top = \Sigma`), columns by
    decreasing eigenvalue; negative round-off eigenvalues count as 0. Standard normal *z* gives :math:`Rz \sim
    N(0, \Sigma)`."""
    eigenvalues, eigenvectors = np.linalg.eigh(np.asarray(covariance, float))
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None)))[:, ::-1]


def link_moves(
    params: Parameters,
    names: list[str],
    displacements: np.ndarray,
    arms: list[Arm],
    endpoints: list[str],
    days: list[float | None],
    values: np.ndarray,
    catalog: Catalog | None = None,
) -> np.ndarray:
    """(draws, rows) how far each prediction moves on the scale its uncertainty adds on (:func:`_scale`) when the
    named parameters move by each row of ``displacements``; ``values`` are the predictions at ``params``."""
    here = np.array([params[n] for n in names])
    base = _scale(np.asarray(values, float), endpoints)
    moved = [
        _scale(
            arm_values(params.with_values(dict(zip(names, here + delta, strict=True))), arms, endpoints, days, catalog),
            endpoints,
        )
        for delta in displacements
    ]
    return np.stack(moved) - base


def prediction_variance(
    params: Parameters,
    arms: list[Arm],
    endpoints: list[str],
    days: list[float | None],
    values: np.ndarray,
    catalog: Catalog | None = None,
) -> PredictionVariance:
    r"""Variance each prediction owes to the uncertainty of the parameters, on the scale its uncertainty adds on
    (:func:`_scale`): :math:`E_\delta[(\operatorname{link} x(\hat\theta + \delta) - \operatorname{link}
    x(\hat\theta))^2]` for :math:`\delta \sim N(0, \Sigma)`, about the point prediction (a posterior skewed away
    from it widens the band). For the fitted parameters :math:`\Sigma` is the calibration's posterior covariance,
    for the area and product terms no evidence fitted their prior variances.

    The prediction is carried through the model at the draws :math:`\delta_i` of :func:`posterior_displacements`
    rather than along its derivatives alone: a share deep in a tail (a few patients back at baseline a month after
    a small dose) is far from linear in the parameters, and secants over one sd of each parameter in turn add up
    moves that the posterior's correlations do not allow together, or miss moves they do (onabotulinumtoxinA
    10 U, days 35 and 45: the secants give the logit a spread of 0.67 and 2.50 where 2,000 draws from the
    posterior give 1.50 and 1.31; ``python benchmarks/parameter_spread.py``). The secants *g*
    (:func:`prediction_jacobian`) serve as control variate, the mean of :math:`c_i = (g^\top\delta_i)^2` being
    known exactly, :math:`g^\top\Sigma g`:

    .. math:: \hat v = \bar s - \beta\,(\bar c - g^\top \Sigma g), \qquad
              s_i = (\operatorname{link} x(\hat\theta + \delta_i) - \operatorname{link} x(\hat\theta))^2,

    with :math:`\beta` the regression slope of *s* on *c* over the draws (clipped to
    :math:`[0,` :data:`CONTROL_BETA_MAX` :math:`]`): near 1 where the prediction is nearly linear, so the draws
    measure only what the linear part misses and a few dozen suffice (:data:`POSTERIOR_DRAWS`); near 0 in a tail,
    where the secants say little and the draws stand alone.

    The between-trial heterogeneities move no prediction and are left out of the draws (their uncertainty widens
    the trial's own spread instead, :func:`arm_interval`): drawn along with the rest, they took the first Sobol
    coordinates, the most evenly spread, for directions that move nothing."""

    def spread(names: list[str], covariance: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.zeros(len(arms))
        if not names or rows.size == 0:
            return out
        sub_arms = [arms[i] for i in rows]
        sub_codes = [endpoints[i] for i in rows]
        sub_days = [days[i] for i in rows]
        sub_values = np.asarray(values, float)[rows]
        spans = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
        secants = prediction_jacobian(params, names, sub_arms, sub_codes, sub_days, sub_values, catalog, spans=spans)
        draws = posterior_displacements(covariance)
        moves = link_moves(params, names, draws, sub_arms, sub_codes, sub_days, sub_values, catalog)
        squares = np.nan_to_num(moves**2)  # (draws, rows)
        control = (draws @ secants.T) ** 2
        known = np.einsum("ij,jk,ik->i", secants, covariance, secants)
        centred_control = control - control.mean(axis=0)
        beta = np.mean((squares - squares.mean(axis=0)) * centred_control, axis=0) / np.maximum(
            np.mean(centred_control**2, axis=0), np.finfo(float).tiny
        )
        beta = np.clip(beta, 0.0, CONTROL_BETA_MAX)
        out[rows] = np.maximum(squares.mean(axis=0) - beta * (control.mean(axis=0) - known), 0.0)
        return out

    unfitted = sorted({n for arm in arms for n in _unfitted_terms(params, arm)})
    prior_variance = np.diag([params.priors.prior(n).sd ** 2 for n in unfitted])
    with_unfitted = np.array([i for i, arm in enumerate(arms) if _unfitted_terms(params, arm)], dtype=int)
    fitted = np.zeros(len(arms))
    if params.covariance is not None:
        movers = [i for i, name in enumerate(params.covariance.names) if not is_heterogeneity(name)]
        fitted = spread(
            [params.covariance.names[i] for i in movers],
            params.covariance.matrix[np.ix_(movers, movers)],
            np.arange(len(arms)),
        )
    return PredictionVariance(fitted=fitted, unfitted=spread(unfitted, prior_variance, with_unfitted))


def predict_arms(
    params: Parameters,
    arms: list[Arm],
    endpoints: list[str],
    days: list[float | None],
    catalog: Catalog | None = None,
) -> list[ArmPrediction]:
    """Predict arm-level numbers (one arm, endpoint and day a row) with their 90 % intervals, widened for the
    uncertainty of the fitted parameters and of the area and product terms no evidence fitted
    (:func:`prediction_variance`) and for the trial's own effects (:func:`study_node_values`,
    :func:`rating_variance`): the interval is that of a new trial of the arm's design."""
    if not arms:
        return []
    values = arm_values(params, arms, endpoints, days, catalog)
    extra = prediction_variance(params, arms, endpoints, days, values, catalog).total
    node_values, weights = study_node_values(params, arms, endpoints, days, catalog)
    out = []
    for arm, code, value, at_nodes, var in zip(arms, endpoints, values, node_values, extra, strict=True):
        lower, upper = arm_interval(params, at_nodes, weights, code, arm.n, float(var))
        lower, upper = min(lower, float(value)), max(upper, float(value))
        if ENDPOINTS[code].whole_days:
            value, lower, upper = reported_day(value), reported_day(lower), reported_day(upper)
        out.append(ArmPrediction(float(value), lower, upper))
    return out
