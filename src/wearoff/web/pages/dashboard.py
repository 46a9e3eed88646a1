"""The dashboard: who is due, recent treatments, alerts, upcoming bookings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from wearoff.web.auth import DbSession, PageActor
from wearoff.web.pages.rendering import render
from wearoff.web.services import analytics, appointments, forecasts, treatments

router = APIRouter()


@router.get("/")
def dashboard(request: Request, actor: PageActor, session: DbSession) -> Response:
    clinical = actor.can("clinical.read")
    return render(
        request,
        "dashboard.html",
        {
            "recent": treatments.recent(session, actor) if clinical else [],
            "alerts": analytics.alerts(session, actor)[:12] if clinical else [],
            "bookings": appointments.upcoming(session, actor)[:10],
            "clinical": clinical,
        },
    )


@router.get("/dashboard/due")
def due_fragment(
    request: Request,
    actor: PageActor,
    session: DbSession,
    within: Annotated[int, Query(ge=0, le=365)] = 30,
) -> Response:
    """The due list (an HTMX fragment: forecasting the whole clinic takes a moment the first time)."""
    entries = forecasts.due(session, actor, within=within)
    return render(request, "partials/due_table.html", {"entries": entries, "within": within})
