"""How long it lasts here: observed wear-off by area, product and injector."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from wearoff.web.auth import DbSession, PageActor
from wearoff.web.pages.rendering import render
from wearoff.web.services import analytics

router = APIRouter()


@router.get("/analytics")
def analytics_page(request: Request, actor: PageActor, session: DbSession) -> Response:
    result = analytics.durations(session, actor)
    shown = [r for r in result.by_area if None not in (r.median_days, r.q25_days, r.q75_days)]
    chart = {
        "labels": [r.label for r in shown],
        "median": [r.median_days for r in shown],
        "q25": [r.q25_days for r in shown],
        "q75": [r.q75_days for r in shown],
        "observed": [r.observed for r in shown],
    }
    return render(request, "analytics.html", {"result": result, "chart": chart})
