r"""A clinic's own level of the duration model: how many times longer its treatments last than the published model.

The evidence calibrates the population; a clinic's records refine it. Everything the trials fitted is held, and
every treatment's mean log duration moves by one clinic term :math:`\theta`:

.. math:: \log\tau_k = \mu_k + \theta + \sigma_b z_b + \sigma_w\varepsilon_k .

:math:`\theta` maximises the marginal likelihood of every follow-up score the clinic recorded,

.. math:: \ell(\theta) = \sum_i \log\int\phi_2(z)\prod_k\int\prod_t P(s_{kt}\mid z, \varepsilon; \theta)\,
          \phi(\varepsilon)\,d\varepsilon\,dz ,

the rater model's likelihood of the scores (:mod:`wearoff.model.personal`) with each patient's sensitivity and
duration effects integrated by the survival engine's adaptive Gauss-Hermite quadrature
(:func:`wearoff.survival.quadrature.adapt_to_posterior`). :math:`e^{\theta}` is the clinic's *time ratio*; its
95 % interval is :math:`e^{\hat\theta \pm 1.96\,se}` with :math:`se = (-\ell''(\hat\theta))^{-1/2}` by central
differences. The scores themselves are the data, not wear-off intervals read from them: an interval keeps only
the last clinician score with effect and the first without, and on a clinic simulated from the model itself a
log-normal AFT on such intervals gave a time ratio of 1.12 against the model's own medians
(``benchmarks/personal_intervals.py``).

Checked on clinics simulated from the shipped model (300 patients, 2 years): re-booked on a fixed schedule, time
ratios 0.98-1.02 at a true 1 (seeds 11-14), every 95 % interval covering 1, and 0.60-0.62 at a true 0.6 (seeds
11-16), an upward lean of up to 2.5 % in five of the six, every interval still covering 0.6; where half the patients
come back when they see the effect gone (the simulator's default), 1.01-1.05 at a true 1 (seeds 11-14, one interval
of four missing 1). Figures of the parameters fitted with trials' own effects; the fit before them leaned 2-4 % at
0.6. Visits a patient books because the effect has gone depend on the wear-off itself, which the likelihood does not
model. The lean at short durations does not come from the quadrature (11 x 11 patient nodes and 15 treatment nodes
give the same ratios to 1e-3) but mostly from the untreated grade, read from the records as the highest score before
a treatment (:func:`wearoff.plan.history.baseline_severity`) and then taken as known: where the effect has gone by
the re-booking visit, the highest of several noisy scores reads above the true grade, and a return to baseline then
looks like effect still there (fits given the simulator's own grades lean +1.3 % at 0.6, of which +0.5 % comes from
the onset, drawn patient by patient and held at its median by the likelihood)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import minimize_scalar
from scipy.special import ndtri

from wearoff.catalog import Catalog
from wearoff.model.parameters import Parameters
from wearoff.model.personal import Episode, marginal_log_likelihood

__all__ = ["ClinicTimeRatio", "NoScoresError", "fit_clinic_time_ratio"]

LOG_RATIO_BOUND = math.log(4.0)
"""The search runs over time ratios from a quarter to four times the model's (a clinic outside is a data error)."""
CURVATURE_STEP = 0.05
r"""Step in :math:`\theta` of the central difference for :math:`\ell''` (5 % in duration: wide against the
quadrature's own noise, narrow against the curvature's change)."""
Z95 = float(ndtri(0.975))
"""The standard normal quantile of a two-sided 95 % interval."""


@dataclass(frozen=True)
class ClinicTimeRatio:
    """The clinic's time ratio against the published model, its 95 % interval, and what it rests on."""

    log_ratio: float
    standard_error: float
    patients: int
    scores: int

    @property
    def ratio(self) -> float:
        return math.exp(self.log_ratio)

    @property
    def interval(self) -> tuple[float, float]:
        """95 % interval of the time ratio."""
        half = Z95 * self.standard_error
        return math.exp(self.log_ratio - half), math.exp(self.log_ratio + half)


class NoScoresError(ValueError):
    """The clinic recorded no follow-up score: there is nothing to fit its level to."""


def _shifted(params: Parameters, theta: float) -> Parameters:
    return params.with_values({"log_tau_ref": params["log_tau_ref"] + theta})


def fit_clinic_time_ratio(
    params: Parameters, histories: list[list[Episode]], catalog: Catalog | None = None
) -> ClinicTimeRatio:
    """Fit the clinic's time ratio to its patients' histories (each patient's treatments with their scores)."""
    scored = [h for h in histories if any(e.observations for e in h)]
    scores = sum(len(e.observations) for h in scored for e in h)
    if not scored:
        raise NoScoresError("no follow-up scores: record severity scores after treatments to fit the clinic's level")

    def negative(theta: float) -> float:
        return -marginal_log_likelihood(_shifted(params, theta), scored, catalog)

    best = minimize_scalar(
        negative, bounds=(-LOG_RATIO_BOUND, LOG_RATIO_BOUND), method="bounded", options={"xatol": 1e-3}
    )
    theta, h = float(best.x), CURVATURE_STEP
    curvature = (negative(theta + h) - 2.0 * best.fun + negative(theta - h)) / (h * h)
    if not curvature > 0:
        raise ValueError("the clinic's scores do not inform its durations (a flat likelihood): record later scores")
    return ClinicTimeRatio(theta, 1.0 / math.sqrt(curvature), len(scored), scores)
