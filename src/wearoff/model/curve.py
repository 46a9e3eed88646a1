r"""The effect of one treatment over time, for one patient: pure functions over NumPy arrays.

A patient *i* treated at relative dose *r* (see :mod:`wearoff.model.treatment`) has

* a **peak effect** (the share of the muscle's pull removed), saturating in the dose:

  .. math:: E_{max} = \operatorname{expit}\big(h\,(\log r + \omega z_E - \log EC_{50})\big)

  with :math:`z_E \sim N(0, 1)` the patient's sensitivity;
* a **decay time scale**, log-linear in the covariates (an accelerated-failure-time structure):

  .. math:: \log\tau = \log\tau_{ref} + \beta_d\,\big(\log r - \log(1 + r / r_{plat})\big)
            + \beta_a (a - 1) + \delta_{area} + \delta_{product} + \delta_{activity} + \sigma_\tau z_\tau

  where *a* is the area's activity (0 low, 1 moderate, 2 high) and :math:`z_\tau \sim N(0, 1)` is the
  patient random effect on duration;
* an **onset** day :math:`T_{on} = \exp(\mu_{on} + \delta_{onset} + s_{on} z_{on})`, the day the effect is
  half-way to its peak.

The effect at day *t* is

.. math:: E(t) = E_{max}\,\big(1 - 2^{-(t/T_{on})^\kappa}\big)\,\exp\big(-(t/\tau)^\gamma\big)

and the wrinkle severity at maximal contraction of a patient enrolled at grade *B* (2 or 3) is
:math:`B\,(1 - E(t))^\rho`: lines fade faster than the muscle's pull (:math:`\rho \ge 1`, the
*visibility* exponent), so the improvement is :math:`\Delta(t) = B\,(1 - (1 - E(t))^\rho)`. The treatment
has **worn off** when the improvement falls below half a grade: raters then score the patient back at
baseline. That happens when the effect falls below :math:`e_B = 1 - (1 - \tfrac{1}{2B})^{1/\rho}`, so,
ignoring the (by then complete) rise,

.. math:: W = \tau\,\big(\ln(E_{max} / e_B)\big)^{1/\gamma}\quad\text{if } E_{max} > e_B,

and the patient does not respond otherwise. The sources of every parameter are in ``data/priors.toml``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

HALF_GRADE = 0.5


def log_tau(
    log_rel_dose: np.ndarray,
    *,
    log_tau_ref: float,
    beta_dose: float,
    log_r_plateau: float,
    beta_area_activity: float,
    area_activity: np.ndarray,
    duration_offset: np.ndarray,
) -> np.ndarray:
    """Population part of the log decay time scale (add :math:`\\sigma_\\tau z_\\tau` for a patient).

    The dose term :math:`\\log r - \\log(1 + r/r_{plat})` rises like :math:`\\log r` for small doses and levels
    off at :math:`\\log r_{plat}`: more units never shorten the effect and stop lengthening it past the
    plateau.
    """
    with np.errstate(divide="ignore", over="ignore"):
        dose_term = log_rel_dose - np.logaddexp(0.0, log_rel_dose - log_r_plateau)
    dose_term = np.where(np.isneginf(log_rel_dose), -np.inf, dose_term)
    return log_tau_ref + beta_dose * dose_term + beta_area_activity * (area_activity - 1.0) + duration_offset


def peak_effect(log_rel_dose: np.ndarray, *, log_ec50: float, hill: float) -> np.ndarray:
    """Peak share of the muscle's pull removed, :math:`\\operatorname{expit}(h(\\log r - \\log EC_{50}))`."""
    with np.errstate(invalid="ignore"):
        out = expit(hill * (log_rel_dose - log_ec50))
    return np.nan_to_num(out, nan=0.0)


def rise(t: np.ndarray, onset_day: np.ndarray, shape: float) -> np.ndarray:
    """The build-up of the effect: :math:`1 - 2^{-(t/T_{on})^\\kappa}` (one half at the onset day)."""
    t = np.maximum(np.asarray(t, float), 0.0)
    with np.errstate(over="ignore"):
        return -np.expm1(-np.log(2.0) * (t / onset_day) ** shape)


def decay(t: np.ndarray, tau: np.ndarray, gamma: float) -> np.ndarray:
    """The wear-off: :math:`\\exp(-(t/\\tau)^\\gamma)`."""
    t = np.maximum(np.asarray(t, float), 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.exp(-((t / tau) ** gamma))
    return np.nan_to_num(out, nan=0.0)


def effect(
    t: np.ndarray, *, peak: np.ndarray, onset_day: np.ndarray, tau: np.ndarray, gamma: float, shape: float
) -> np.ndarray:
    """Effect (0..1) at day *t*: peak x rise x decay; broadcasts over all arguments."""
    return peak * rise(t, onset_day, shape) * decay(t, tau, gamma)


def improvement(effect_share: np.ndarray, baseline: np.ndarray, visibility: float) -> np.ndarray:
    """Grades of improvement :math:`B(1 - (1 - E)^\\rho)` at effect *E* for a patient enrolled at grade *B*."""
    return baseline * -np.expm1(visibility * np.log1p(-np.minimum(effect_share, 1.0 - 1e-12)))


def effect_needed(grades: np.ndarray | float, baseline: np.ndarray, visibility: float) -> np.ndarray:
    """Effect at which the improvement is ``grades``: :math:`1 - (1 - g/B)^{1/\\rho}` (0 where g <= 0)."""
    share = np.clip(np.asarray(grades, float) / baseline, 0.0, 1.0)
    return -np.expm1(np.log1p(-np.minimum(share, 1.0 - 1e-12)) / visibility)


def log_crossing_factor(peak: np.ndarray, level: float | np.ndarray, gamma: float) -> np.ndarray:
    """:math:`\\log\\big((\\ln(E_{max}/\\ell))^{1/\\gamma}\\big)`: log of the day the decay brings the effect to
    *level*, relative to :math:`\\tau`; ``-inf`` where the peak never reaches the level."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(np.asarray(peak, float) / level)
        out = np.log(np.where(ratio > 0, ratio, 0.0)) / gamma
    return np.where(np.isnan(out), -np.inf, out)


def wear_off_day(
    peak: np.ndarray, tau: np.ndarray, baseline: np.ndarray, gamma: float, visibility: float
) -> np.ndarray:
    """Day the improvement falls below half a grade (0 for a patient who never responds)."""
    factor = log_crossing_factor(peak, effect_needed(HALF_GRADE, np.asarray(baseline, float), visibility), gamma)
    return np.where(np.isneginf(factor), 0.0, tau * np.exp(factor))
