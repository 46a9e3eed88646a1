"""wearoff: predict, explain and help extend how long botulinum toxin treatments last.

The Python API::

    import wearoff

    f = wearoff.forecast(wearoff.Treatment("onabotulinumtoxinA", "glabellar", 20, sex="female"))
    f.wear_off_day.median, f.wear_off_day.lower90, f.wear_off_day.upper90

Names are imported on first use, so ``import wearoff`` stays light for the command line.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "forecast": "wearoff.model.forecast",
    "forecast_many": "wearoff.model.forecast",
    "Forecast": "wearoff.model.forecast",
    "Interval": "wearoff.model.forecast",
    "Treatment": "wearoff.model.treatment",
    "TreatmentError": "wearoff.model.treatment",
    "load_catalog": "wearoff.catalog",
    "load_parameters": "wearoff.model.parameters",
}
__all__ = [
    "Forecast",
    "Interval",
    "Treatment",
    "TreatmentError",
    "__version__",
    "forecast",
    "forecast_many",
    "load_catalog",
    "load_parameters",
]

if TYPE_CHECKING:  # pragma: no cover
    from wearoff.catalog import load_catalog
    from wearoff.model.forecast import Forecast, Interval, forecast, forecast_many
    from wearoff.model.parameters import load_parameters
    from wearoff.model.treatment import Treatment, TreatmentError


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'wearoff' has no attribute {name!r}")
