r"""Drawing raters' scores from the rater model (the generative side of :mod:`wearoff.model.cohort`'s raters).

A rater looking at a true improvement of :math:`I` grades in an area enrolled at grade *B* scores

.. math:: s = \min\big(3, \max(0, B - \lfloor I + \sigma_r \xi + O + \tfrac12 \rfloor)\big),
          \qquad \xi \sim N(0, 1),\ O \sim \text{Bernoulli}(o_r),

with the rater's noise :math:`\sigma_r` and optimism :math:`o_r` (``log_<rater>_sd`` and
``logit_<rater>_optimism`` of the calibrated parameters): the likelihood the cohort and the personal posterior
use, run forwards. Simulated clinics and the analytics' predictive checks draw their scores here.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from wearoff.model.parameters import Parameters

__all__ = ["rated_severity"]


def rated_severity(
    rng: np.random.Generator,
    improvement: np.ndarray | float,
    baseline: np.ndarray | float,
    rater: str,
    params: Parameters,
) -> np.ndarray:
    """Scores of severity (0-3) drawn for true improvements (grades) of areas enrolled at ``baseline``; ``rater``
    is ``inv`` (a clinician, like the trials' investigators) or ``subj`` (the patient). Arrays broadcast; the
    noise is drawn before the optimism, one of each per score."""
    improvement, baseline = np.broadcast_arrays(np.asarray(improvement, float), np.asarray(baseline, float))
    sd = float(np.exp(params[f"log_{rater}_sd"]))
    optimism = float(expit(params[f"logit_{rater}_optimism"]))
    scored = improvement + rng.normal(0.0, sd, improvement.shape)
    scored = scored + (rng.random(improvement.shape) < optimism)
    return np.clip(baseline - np.floor(scored + 0.5), 0, 3).astype(np.int64)
