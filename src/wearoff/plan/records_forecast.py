"""Forecasts for every patient and area of a clinic's records, as of a date (``wearoff forecast-records``).

For each patient and area, the latest treatment on or before the as-of date is forecast from the records
dated on or before it: personally (the patient's history, :mod:`wearoff.model.personal`) or, with
``population_only``, as for a new patient. Days are counted from the treatment date; the re-booking window is
given as dates (:mod:`wearoff.plan.window`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from wearoff.catalog import Catalog, load_catalog
from wearoff.model.forecast import Forecast, forecast_many
from wearoff.model.parameters import Parameters, load_parameters
from wearoff.plan.history import courses_as_of
from wearoff.plan.window import RebookWindow, rebook_window
from wearoff.records.values import PatientHistory

BATCH_PATIENTS = 500
"""Patients whose posteriors are computed together."""
CSV_COLUMNS = (
    "patient_id",
    "area",
    "treatment_id",
    "treatment_date",
    "wear_off_day_median",
    "wear_off_day_lower90",
    "wear_off_day_upper90",
    "rebook_from",
    "rebook_to",
)


@dataclass(frozen=True)
class AreaForecast:
    """The forecast of a patient's latest treatment of one area, with its window."""

    patient_id: str
    area: str
    treatment_id: str
    treatment_date: date
    earlier_treatments: int
    forecast: Forecast
    window: RebookWindow

    def csv_row(self) -> dict[str, str]:
        w = self.forecast.wear_off_day
        return {
            "patient_id": self.patient_id,
            "area": self.area,
            "treatment_id": self.treatment_id,
            "treatment_date": self.treatment_date.isoformat(),
            "wear_off_day_median": f"{w.median:.1f}",
            "wear_off_day_lower90": f"{w.lower90:.1f}",
            "wear_off_day_upper90": f"{w.upper90:.1f}",
            "rebook_from": self.window.opens.isoformat(),
            "rebook_to": self.window.closes.isoformat(),
        }


def forecast_records(
    histories: list[PatientHistory],
    as_of: date,
    *,
    population_only: bool = False,
    params: Parameters | None = None,
    catalog: Catalog | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[AreaForecast]:
    """Forecast every (patient, area) with a treatment on or before ``as_of`` (see the module docstring)."""
    params = params or load_parameters()
    catalog = catalog or load_catalog()
    out: list[AreaForecast] = []
    for first in range(0, len(histories), BATCH_PATIENTS):
        batch = histories[first : first + BATCH_PATIENTS]
        courses = [c for h in batch for c in courses_as_of(h, as_of, with_history=not population_only)]
        forecasts = forecast_many(
            [c.treatment for c in courses],
            params,
            catalog,
            [c.history for c in courses],
            currents=[c.current for c in courses],
            with_curve=False,
        )
        for course, f in zip(courses, forecasts, strict=True):
            out.append(
                AreaForecast(
                    course.patient.patient_id,
                    course.treatment.area,
                    course.latest.treatment_id,
                    course.latest.date,
                    course.earlier_treatments,
                    f,
                    rebook_window(course.latest.date, f, catalog),
                )
            )
        if progress:
            progress(len(batch))
    return out
