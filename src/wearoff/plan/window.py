"""The re-booking window: when to see the patient again.

The window spans the middle half of the forecast wear-off (its quartiles), so it is centred on the predicted
wear-off and as wide as the forecast is uncertain, at least ``MIN_WINDOW_DAYS``; it never opens before the
product's label minimum interval (catalogue), and closes at least ``MIN_WINDOW_DAYS`` after it opens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from wearoff.catalog import Catalog, load_catalog
from wearoff.model.forecast import Forecast

MIN_WINDOW_DAYS = 7


@dataclass(frozen=True)
class RebookWindow:
    """Dates between which to re-treat, and whether the label interval moved the opening."""

    opens: date
    closes: date
    held_by_label_interval: bool


def rebook_window(treated_on: date, forecast: Forecast, catalog: Catalog | None = None) -> RebookWindow:
    """The window for a treatment given on ``treated_on`` (see the module docstring)."""
    catalog = catalog or load_catalog()
    minimum = int(catalog.product(forecast.treatment.product).label_min_interval_days.value)
    q25, q75 = forecast.wear_off_quartiles
    opens_day = math.floor(q25) if math.isfinite(q25) else minimum
    held = opens_day < minimum
    opens_day = max(opens_day, minimum)
    closes_day = max(math.ceil(q75) if math.isfinite(q75) else opens_day, opens_day + MIN_WINDOW_DAYS)
    return RebookWindow(treated_on + timedelta(days=opens_day), treated_on + timedelta(days=closes_day), held)
