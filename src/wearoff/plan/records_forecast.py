"""Forecasts for every patient and area of a clinic's records, as of a date (``wearoff forecast-records``).

For each patient and area, the latest treatment on or before the as-of date is forecast from the records
dated on or before it: personally (the patient's history, :mod:`wearoff.model.personal`) or, with
``population_only``, as for a new patient. Days are counted from the treatment date; the re-booking window is
given as dates (:mod:`wearoff.plan.window`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
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


def _forecast_batch(
    batch: list[PatientHistory], as_of: date, population_only: bool, params: Parameters, catalog: Catalog
) -> list[AreaForecast]:
    courses = [c for h in batch for c in courses_as_of(h, as_of, with_history=not population_only)]
    forecasts = forecast_many(
        [c.treatment for c in courses],
        params,
        catalog,
        [c.history for c in courses],
        currents=[c.current for c in courses],
        with_curve=False,
    )
    return [
        AreaForecast(
            course.patient.patient_id,
            course.treatment.area,
            course.latest.treatment_id,
            course.latest.date,
            course.earlier_treatments,
            f,
            rebook_window(course.latest.date, f, catalog),
        )
        for course, f in zip(courses, forecasts, strict=True)
    ]


def default_workers() -> int:
    """Worker processes for large record sets: the machine's cores."""
    return max(1, os.cpu_count() or 1)


def forecast_records(
    histories: list[PatientHistory],
    as_of: date,
    *,
    population_only: bool = False,
    params: Parameters | None = None,
    catalog: Catalog | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> list[AreaForecast]:
    """Forecast every (patient, area) with a treatment on or before ``as_of`` (see the module docstring).

    Patients go in batches of :data:`BATCH_PATIENTS`; with more than one batch and ``workers`` > 1 (default: the
    machine's cores) the batches run in that many worker processes. The result is the same either way, in the
    order of ``histories``.
    """
    params = params or load_parameters()
    catalog = catalog or load_catalog()
    workers = default_workers() if workers is None else workers
    batches = [histories[i : i + BATCH_PATIENTS] for i in range(0, len(histories), BATCH_PATIENTS)]
    if workers <= 1 or len(batches) <= 1:
        out: list[AreaForecast] = []
        for batch in batches:
            out += _forecast_batch(batch, as_of, population_only, params, catalog)
            if progress:
                progress(len(batch))
        return out
    # forkserver: safe to start from a process that runs threads (the web server)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=context) as pool:
        futures = [pool.submit(_forecast_batch, b, as_of, population_only, params, catalog) for b in batches]
        size = {f: len(b) for f, b in zip(futures, batches, strict=True)}
        if progress:
            for done in as_completed(futures):
                progress(size[done])
        return [row for f in futures for row in f.result()]
