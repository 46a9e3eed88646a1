"""Forecasts: a patient's plan per area, an ad-hoc treatment's forecast, and the clinic's due list."""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from dataclasses import dataclass

from sqlalchemy.orm import Session

from wearoff.model.forecast import SUMMARY_BATCH, Forecast, forecast, forecast_many
from wearoff.model.treatment import Treatment, TreatmentError
from wearoff.plan.patient_plan import AreaPlan, plan_patient
from wearoff.plan.records_forecast import AreaForecast, forecast_records
from wearoff.records import repository
from wearoff.web.actor import Actor
from wearoff.web.errors import InvalidInputError
from wearoff.web.services.clinic_cache import clinic_view
from wearoff.web.services.patients import patient_row


def patient_plans(session: Session, actor: Actor, patient_id: str, as_of: dt.date | None = None) -> list[AreaPlan]:
    """The patient's plan per treated area as of a date (default today): THE planner's view
    (:func:`wearoff.plan.patient_plan.plan_patient`)."""
    actor.require("clinical.read")
    patient_row(session, actor, patient_id)
    history = repository.patient_history(session, patient_id, actor.clinic)
    return plan_patient(history, as_of or dt.date.today())


def windows_only(session: Session, actor: Actor, patient_id: str, as_of: dt.date | None = None) -> list[AreaForecast]:
    """The patient's re-booking windows per area (what the front desk needs to book), without clinical detail."""
    actor.require("due.read")
    patient_row(session, actor, patient_id)
    history = repository.patient_history(session, patient_id, actor.clinic)
    return forecast_records([history], as_of or dt.date.today())


def adhoc_treatment(
    product: str,
    area: str,
    units: float,
    *,
    sex: str = "female",
    activity: str = "moderate",
    prior_treatments: int = 0,
    age: float | None = None,
    baseline_severity: int | None = None,
) -> Treatment:
    """A treatment described by hand, validated; what is wrong with it is an :class:`InvalidInputError`."""
    try:
        return Treatment(
            product,
            area,
            float(units),
            sex=sex,  # type: ignore[arg-type]
            activity=activity,  # type: ignore[arg-type]
            prior_treatments=prior_treatments,
            age=age,
            baseline_severity=baseline_severity,
        ).validated()
    except TreatmentError as exc:
        raise InvalidInputError.one("", str(exc)) from None


def _forecast_one(treatment: Treatment) -> Forecast:
    try:
        return forecast(treatment)
    except (ValueError, OverflowError, FloatingPointError) as exc:
        raise InvalidInputError.one("", f"this treatment cannot be forecast: {exc}; correct it and ask again") from None


Waiting = tuple[Treatment, "asyncio.Future[Forecast]"]


class AdhocForecasts:
    """Ad-hoc forecasts of one worker process, computed together when they arrive together.

    A forecast is a few milliseconds of vectorised arithmetic on the event loop. Requests that arrive while the
    loop computes wait in their sockets; when it is free they are read, validated, and queued here in the same
    turn of the loop, and the next turn forecasts the queue, at most :data:`~wearoff.model.forecast.SUMMARY_BATCH`
    at a time, with one call of :func:`wearoff.model.forecast.forecast_many` (the one path). Under load the
    arithmetic is shared (on the load benchmark's treatments, 8 forecasts together cost 0.7 of 8 alone, 64 cost
    0.56) and a burst waits for one batch rather than a line of forecasts; a lone request is a batch of one. If a
    batch fails, its forecasts are computed one by one, so an error reaches only the request that caused it. Each
    event loop has its own queue.
    """

    def __init__(self) -> None:
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[Waiting]] = weakref.WeakKeyDictionary()

    async def forecast(self, treatment: Treatment) -> Forecast:
        """The forecast of a validated treatment (see the class docstring)."""
        loop = asyncio.get_running_loop()
        queue = self._queues.setdefault(loop, [])  # one queue per event loop: a future belongs to its loop
        done: asyncio.Future[Forecast] = loop.create_future()
        queue.append((treatment, done))
        if len(queue) == 1:
            loop.call_soon(self._run, loop)
        return await done

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        queue = self._queues.get(loop, [])
        batch, queue[:] = queue[:SUMMARY_BATCH], queue[SUMMARY_BATCH:]
        if queue:  # the rest in the next turn of the loop, so one burst does not hold the loop for long
            loop.call_soon(self._run, loop)
        waiting = [(t, f) for t, f in batch if not f.done()]  # a request already cancelled is not computed
        if not waiting:
            return
        try:
            results = forecast_many([t for t, _ in waiting])
        except Exception:  # each forecast again, alone, so the error reaches its own request
            results = None
        for i, (t, f) in enumerate(waiting):
            try:
                f.set_result(results[i] if results is not None else _forecast_one(t))
            except Exception as exc:  # handed to the request that awaits it
                f.set_exception(exc)


@dataclass(frozen=True)
class DueEntry:
    """One patient and area whose re-booking window is open or opens within the horizon."""

    patient_id: str
    area: str
    treatment_id: str
    treatment_date: dt.date
    opens: dt.date
    closes: dt.date
    wear_off_median: float
    wear_off_lower90: float
    wear_off_upper90: float
    status: str
    """``overdue`` (window closed), ``open`` or ``soon``."""


def clinic_forecasts(session: Session, actor: Actor, as_of: dt.date) -> list[AreaForecast]:
    """Every patient's and area's forecast as of a date (kept until the clinic's records change)."""
    # no process pool inside a request
    return clinic_view(session, actor, "forecasts", as_of, lambda h: forecast_records(h, as_of, workers=1))


OVERDUE_DAYS = 60
"""A closed window stays on the due list this long without a newer treatment: two months of calls before the
patient is taken for lapsed (a choice of the app)."""


def due(
    session: Session,
    actor: Actor,
    *,
    as_of: dt.date | None = None,
    within: int = 30,
    overdue_days: int = OVERDUE_DAYS,
) -> list[DueEntry]:
    """Who to call: windows open now, opening within ``within`` days, or closed in the last ``overdue_days``
    days without a newer treatment; soonest first."""
    actor.require("due.read")
    if not 0 <= within <= 3650:
        raise InvalidInputError.one("within", "within must be 0-3650 days")
    day = as_of or dt.date.today()
    horizon = day + dt.timedelta(days=within)
    out = []
    for r in clinic_forecasts(session, actor, day):
        if r.window.opens > horizon or r.window.closes < day - dt.timedelta(days=overdue_days):
            continue
        status = "overdue" if r.window.closes < day else "open" if r.window.opens <= day else "soon"
        w = r.forecast.wear_off_day
        out.append(
            DueEntry(
                r.patient_id,
                r.area,
                r.treatment_id,
                r.treatment_date,
                r.window.opens,
                r.window.closes,
                w.median,
                w.lower90,
                w.upper90,
                status,
            )
        )
    return sorted(out, key=lambda e: (e.opens, e.patient_id, e.area))
