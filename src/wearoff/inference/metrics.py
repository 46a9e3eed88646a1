"""Accuracy figures of predictions against published values: the numbers the validation report gives.

* responder-rate MAE: mean absolute error, in percentage points, over percent rows;
* duration error: mean absolute relative error over duration rows (``*_days`` codes other than onset);
* onset error: the same over onset-day rows;
* coverage: share of rows whose observed value lies within the 90 % interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from wearoff.model.endpoints import ENDPOINTS

ONSET_CODES = frozenset({"median_onset_days"})


@dataclass(frozen=True)
class Scored:
    """An observed value with its prediction and interval."""

    endpoint: str
    observed: float
    predicted: float
    lower90: float
    upper90: float


@dataclass(frozen=True)
class Accuracy:
    """Summary figures over a set of scored rows."""

    rows: int
    responder_rows: int
    responder_mae_points: float
    duration_rows: int
    duration_error: float
    onset_rows: int
    onset_error: float
    coverage90: float


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def accuracy(scored: Sequence[Scored]) -> Accuracy:
    """Compute the summary figures (see the module docstring)."""
    ok = [s for s in scored if math.isfinite(s.predicted)]
    percent = [s for s in ok if ENDPOINTS[s.endpoint].unit == "percent"]
    days = [s for s in ok if ENDPOINTS[s.endpoint].unit == "days"]
    durations = [s for s in days if s.endpoint not in ONSET_CODES]
    onsets = [s for s in days if s.endpoint in ONSET_CODES]
    return Accuracy(
        rows=len(ok),
        responder_rows=len(percent),
        responder_mae_points=_mean([abs(s.predicted - s.observed) for s in percent]),
        duration_rows=len(durations),
        duration_error=_mean([abs(s.predicted - s.observed) / s.observed for s in durations]),
        onset_rows=len(onsets),
        onset_error=_mean([abs(s.predicted - s.observed) / s.observed for s in onsets]),
        coverage90=_mean([1.0 if s.lower90 <= s.observed <= s.upper90 else 0.0 for s in ok]),
    )
