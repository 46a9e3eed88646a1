"""Forecasts: a patient's plan, an ad-hoc treatment, the due list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request

from wearoff.web.auth import ApiActor, DbSession
from wearoff.web.schemas.forecasts import (
    AdhocForecastCreate,
    AreaPlanPublic,
    DueEntryPublic,
    ForecastPublic,
    PatientForecastPublic,
)
from wearoff.web.services import forecasts

router = APIRouter(tags=["forecasts"])
AsOf = Annotated[dt.date | None, Query(description="Date of the view (default today)")]


@router.get("/patients/{patient_id}/forecast", response_model=PatientForecastPublic)
def patient_forecast(patient_id: str, actor: ApiActor, session: DbSession, as_of: AsOf = None) -> PatientForecastPublic:
    """Per treated area: the latest treatment's forecast (90 % intervals, effect curve band), the re-booking
    window, safety flags, the explanation in days and the advice."""
    day = as_of or dt.date.today()
    plans = forecasts.patient_plans(session, actor, patient_id, day)
    return PatientForecastPublic(
        patient_id=patient_id, as_of=day, areas=[AreaPlanPublic.model_validate(p) for p in plans]
    )


@router.post("/forecast", response_model=ForecastPublic)
async def adhoc_forecast(body: AdhocForecastCreate, actor: ApiActor, request: Request) -> ForecastPublic:
    """What the model expects of a treatment described by hand (a population forecast)."""
    # arithmetic of a few milliseconds: on the worker's event loop (a thread would still hold the interpreter
    # lock), together with the forecasts that arrive with it; serve with one worker process per core
    treatment = forecasts.adhoc_treatment(
        body.product,
        body.area,
        body.units,
        sex=body.sex,
        activity=body.activity,
        prior_treatments=body.prior_treatments,
        age=body.age,
        baseline_severity=body.baseline_severity,
    )
    return ForecastPublic.model_validate(await request.app.state.adhoc_forecasts.forecast(treatment))


@router.get("/due", response_model=list[DueEntryPublic])
def due_list(
    actor: ApiActor,
    session: DbSession,
    within: Annotated[int, Query(ge=0, le=3650, description="Days ahead")] = 30,
    as_of: AsOf = None,
) -> list[DueEntryPublic]:
    """Who to call: re-booking windows open now, opening within ``within`` days, or recently closed."""
    return [DueEntryPublic.model_validate(e) for e in forecasts.due(session, actor, as_of=as_of, within=within)]
