"""The data the browser draws a patient's area chart from: the effect curve with its 90 % band, the follow-up
scores, the re-booking window and today, on the latest treatment's time axis (days since it)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from wearoff.plan.patient_plan import AreaPlan


def _finite(values: list[float], scale: float = 100.0) -> list[float | None]:
    return [round(v * scale, 2) if math.isfinite(v) else None for v in values]


def plan_chart(plan: AreaPlan, as_of: dt.date) -> dict[str, Any]:
    """JSON-ready chart data of one area's plan (effect in percent of the muscle's pull removed)."""
    curve = plan.forecast.curve
    opens, closes = plan.window_days
    w = plan.forecast.wear_off_day
    # the x axis: at least five months (most treatments' whole course), a month past the re-booking window, and
    # past the wear-off's 90 % upper bound; layout choices for the picture, not estimates
    horizon = max(150.0, closes + 30.0, w.upper90 + 10.0 if math.isfinite(w.upper90) else 0.0)
    horizon = min(horizon, curve.days[-1] if curve.days else 300.0)
    keep = [i for i, d in enumerate(curve.days) if d <= horizon]
    treated = plan.latest.date
    return {
        "treated": treated.isoformat(),
        "days": [curve.days[i] for i in keep],
        "median": _finite([curve.median[i] for i in keep]),
        "lower": _finite([curve.lower90[i] for i in keep]),
        "upper": _finite([curve.upper90[i] for i in keep]),
        "window": [opens, closes],
        "today": (as_of - treated).days,
        "scores": [
            {"day": s.day, "severity": s.severity, "rater": s.rater, "date": s.date.isoformat()} for s in plan.scores
        ],
    }
