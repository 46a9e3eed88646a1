"""The server-rendered pages (Jinja2 + HTMX): one router per area of the app, all calling
:mod:`wearoff.web.services`."""

from __future__ import annotations

from fastapi import APIRouter

from wearoff.web.pages import admin, analytics, auth_pages, charting, dashboard, evidence, followup, patients


def page_router() -> APIRouter:
    """Every page route (left out of the API's OpenAPI document)."""
    router = APIRouter(include_in_schema=False)
    for module in (auth_pages, dashboard, patients, charting, followup, analytics, evidence, admin):
        router.include_router(module.router)
    return router
