"""Fast interval-censored survival: parametric AFT regression with random intercepts, and the Turnbull NPMLE.

* :class:`IntervalAFT`: Weibull / log-logistic / log-normal accelerated failure time models for interval-, left-,
  right-censored and exact durations, optionally with a normal random intercept per group (adaptive Gauss-Hermite).
* :class:`TurnbullNPMLE` and :func:`turnbull`: the nonparametric maximum likelihood estimate of the survival curve.
* :func:`negative_log_likelihood` and :func:`grouped_negative_log_likelihood`: the pure likelihood kernels (sums
  over the rows or groups they are given, so partitions of a data set can be evaluated separately and added).
"""

from wearoff.survival.aft import IntervalAFT
from wearoff.survival.families import FAMILIES, Family, LogLogistic, LogNormal, Weibull, get_family
from wearoff.survival.likelihood import LikelihoodSums, negative_log_likelihood
from wearoff.survival.random_effects import grouped_negative_log_likelihood
from wearoff.survival.turnbull import TurnbullNPMLE, TurnbullResult, turnbull

__all__ = [
    "FAMILIES",
    "Family",
    "IntervalAFT",
    "LikelihoodSums",
    "LogLogistic",
    "LogNormal",
    "TurnbullNPMLE",
    "TurnbullResult",
    "Weibull",
    "get_family",
    "grouped_negative_log_likelihood",
    "negative_log_likelihood",
    "turnbull",
]
