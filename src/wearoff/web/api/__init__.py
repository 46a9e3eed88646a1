"""The REST API under ``/api/v1``: one router per resource, all calling :mod:`wearoff.web.services`."""

from __future__ import annotations

from fastapi import APIRouter

from wearoff.web.api import (
    analytics,
    appointments,
    assessments,
    audit,
    auth,
    catalog,
    exchange,
    forecasts,
    patients,
    treatments,
)
from wearoff.web.api.responses import ERRORS

PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """Every API route under :data:`PREFIX`."""
    router = APIRouter(prefix=PREFIX, responses=ERRORS)
    # routes are matched in order: the forecasts, asked most often, come first (no two routers share a path)
    for module in (
        forecasts,
        auth,
        patients,
        treatments,
        assessments,
        appointments,
        analytics,
        exchange,
        audit,
        catalog,
    ):
        router.include_router(module.router)
    return router
