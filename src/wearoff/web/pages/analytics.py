"""How long it lasts here: observed wear-off by area, product and injector."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from wearoff.analytics.summary import MIN_EVENTS
from wearoff.web.auth import DbSession, PageActor
from wearoff.web.pages.rendering import render
from wearoff.web.services import analytics

router = APIRouter()


@router.get("/analytics")
def analytics_page(request: Request, actor: PageActor, session: DbSession) -> Response:
    result = analytics.durations(session, actor)
    # a median from a handful of returns is listed, marked, but not drawn as if it were firm
    shown = [
        r for r in result.by_area if r.observed >= MIN_EVENTS and None not in (r.median_days, r.q25_days, r.q75_days)
    ]
    chart = {
        "labels": [r.label for r in shown],
        "median": [r.median_days for r in shown],
        "q25": [r.q25_days for r in shown],
        "q75": [r.q75_days for r in shown],
        "observed": [r.observed for r in shown],
    }
    return render(request, "analytics.html", {"result": result, "chart": chart, "min_events": MIN_EVENTS})
