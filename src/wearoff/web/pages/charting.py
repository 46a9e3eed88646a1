"""Charting a treatment on the face map: the form, the live safety preview (HTMX) and saving."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from wearoff.catalog import load_catalog
from wearoff.web.actor import Actor
from wearoff.web.auth import CsrfChecked, DbSession, PageActor
from wearoff.web.errors import InvalidInputError
from wearoff.web.pages.forms import flash, form_fields, redirect
from wearoff.web.pages.rendering import render
from wearoff.web.services import patients, treatments
from wearoff.web.services.treatments import TreatmentInput

router = APIRouter()


def _points(text: str | None) -> tuple[list[dict[str, Any]] | None, str | None]:
    if not text or not text.strip():
        return None, None
    try:
        points = json.loads(text)
    except ValueError:
        return None, "the injection points could not be read; clear them and mark them again"
    return (points or None), None


def _input(fields: dict[str, str]) -> tuple[TreatmentInput, str | None]:
    points, problem = _points(fields.get("points"))
    data = TreatmentInput(
        date=fields.get("date", ""),
        product=fields.get("product", ""),
        area=fields.get("area", ""),
        units=fields.get("units", ""),
        lot=fields.get("lot"),
        expiry=fields.get("expiry"),
        dilution_ml=fields.get("dilution_ml"),
        injector=fields.get("injector"),
        points=points,
    )
    return data, problem


def _form_context(
    session: Session, actor: Actor, patient_id: str, values: dict[str, str], errors: dict[str, str]
) -> dict:
    info = patients.get_patient(session, actor, patient_id)
    catalog = load_catalog()
    history = treatments.list_for(session, actor, patient_id)
    last = history[0] if history else None
    defaults = {
        "date": dt.date.today().isoformat(),
        "product": last.product if last else "onabotulinumtoxinA",
        "dilution_ml": f"{last.dilution_ml:g}" if last and last.dilution_ml else "",  # as last time, else blank
        "injector": actor.display_name,
    }
    return {
        "patient": info,
        "values": {**defaults, **{k: v for k, v in values.items() if v is not None}},
        "errors": errors,
        "products": [p for p in catalog.products.values() if p.is_toxin and p.code != "unspecified"],
        "areas": list(catalog.areas.values()),
        "typical": {
            code: {
                "female": [a.typical_units_female.low, a.typical_units_female.high],
                "male": [a.typical_units_male.low, a.typical_units_male.high],
                "max": a.label_max_units.value,
                "per_side": a.units_are == "per_side",
                "label": a.label,
            }
            for code, a in catalog.areas.items()
        },
        "last_by_area": {t.area: t for t in reversed(history)},
    }


@router.get("/patients/{patient_id}/chart")
def chart_page(request: Request, patient_id: str, actor: PageActor, session: DbSession, area: str = "") -> Response:
    actor.require("clinical.write")
    values = {"area": area} if area else {}
    return render(request, "chart.html", _form_context(session, actor, patient_id, values, {}))


@router.post("/patients/{patient_id}/chart/preview", dependencies=[CsrfChecked])
async def chart_preview(request: Request, patient_id: str, actor: PageActor, session: DbSession) -> Response:
    """The guards' warnings and the expected wear-off for the form as it stands (stores nothing)."""
    fields = await form_fields(request)
    data, problem = _input(fields)
    result, errors = None, {}
    if not fields.get("area"):
        return render(request, "partials/chart_preview.html", {"result": None, "errors": {}, "hint": True})
    else:
        try:
            result = treatments.check(session, actor, patient_id, data)
        except InvalidInputError as exc:
            errors = exc.by_field()
    if problem:
        errors["points"] = problem
    return render(request, "partials/chart_preview.html", {"result": result, "errors": errors})


@router.post("/patients/{patient_id}/chart", dependencies=[CsrfChecked])
async def chart_save(request: Request, patient_id: str, actor: PageActor, session: DbSession) -> Response:
    fields = await form_fields(request)
    data, problem = _input(fields)
    try:
        if problem:
            raise InvalidInputError.one("points", problem)
        with session.begin_nested():
            view, flags = treatments.create(session, actor, patient_id, data)
    except InvalidInputError as exc:
        errors = exc.by_field()
        if "" in errors and "area" not in errors and not fields.get("area"):
            errors["area"] = errors.pop("")
        context = _form_context(session, actor, patient_id, fields, errors)
        return render(request, "chart.html", context, status_code=422)
    area = load_catalog().areas[view.area].short_label
    note = f" with {len(flags)} warning{'s' if len(flags) != 1 else ''}" if flags else ""
    flash(request, f"Charted {view.units:g} U to {area} on {view.date:%d %b %Y}{note}.", "warn" if flags else "ok")
    return redirect(f"/patients/{patient_id}#area-{view.area}")
