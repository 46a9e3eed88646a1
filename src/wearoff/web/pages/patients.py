"""Patients: search, add, the patient's page, bookings, the follow-up link and the printable summary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from wearoff.catalog import load_catalog
from wearoff.web.auth import CsrfChecked, DbSession, PageActor, check_csrf
from wearoff.web.errors import InvalidInputError, NotFoundError
from wearoff.web.pages.charts import plan_chart
from wearoff.web.pages.forms import flash, form_fields, redirect
from wearoff.web.pages.rendering import render
from wearoff.web.services import appointments, assessments, followup, forecasts, patients, treatments

router = APIRouter()


@router.get("/patients")
def patient_list(
    request: Request,
    actor: PageActor,
    session: DbSession,
    q: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> Response:
    per_page = 50
    items, total = patients.search_patients(session, actor, q, limit=per_page, offset=(page - 1) * per_page)
    context = {"items": items, "total": total, "q": q, "page": page, "pages": max(1, -(-total // per_page))}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "patient-rows":
        return render(request, "partials/patient_rows.html", context)
    return render(request, "patients.html", context)


@router.get("/patients/new")
def new_patient_page(request: Request, actor: PageActor) -> Response:
    actor.require("patients.write")
    return render(request, "patient_new.html", {"values": {"activity": "moderate"}, "errors": {}})


@router.post("/patients/new", dependencies=[CsrfChecked])
async def create_patient(request: Request, actor: PageActor, session: DbSession) -> Response:
    fields = await form_fields(request)
    try:
        info = patients.create_patient(
            session,
            actor,
            fields.get("patient_id", ""),
            fields.get("sex", ""),
            fields.get("birth_year", ""),
            fields.get("activity", ""),
        )
    except InvalidInputError as exc:
        return render(request, "patient_new.html", {"values": fields, "errors": exc.by_field()}, status_code=422)
    flash(request, f"Patient {info.patient_id} added.")
    return redirect(f"/patients/{info.patient_id}")


def _patient_context(
    session: DbSession, actor: PageActor, patient_id: str, as_of: dt.date, score_errors: dict | None = None
) -> dict:
    info = patients.get_patient(session, actor, patient_id)
    context: dict = {
        "patient": info,
        "age": as_of.year - info.birth_year,
        "bookings": appointments.upcoming(session, actor, patient_id),
        "as_of": as_of,
        "score_errors": score_errors or {},
        "score_values": {},
    }
    if actor.can("clinical.read"):
        plans = forecasts.patient_plans(session, actor, patient_id, as_of)
        context["plans"] = plans
        context["charts"] = {p.area: plan_chart(p, as_of) for p in plans}
        context["treatments"] = treatments.list_for(session, actor, patient_id)
        context["scores"] = assessments.list_for(session, actor, patient_id)
    else:
        context["windows"] = forecasts.windows_only(session, actor, patient_id, as_of)
    return context


@router.get("/patients/{patient_id}")
def patient_page(request: Request, patient_id: str, actor: PageActor, session: DbSession) -> Response:
    return render(request, "patient.html", _patient_context(session, actor, patient_id, dt.date.today()))


@router.post("/patients/{patient_id}/scores", dependencies=[CsrfChecked])
async def record_score(request: Request, patient_id: str, actor: PageActor, session: DbSession) -> Response:
    fields = await form_fields(request)
    try:
        with session.begin_nested():
            record = assessments.create(
                session,
                actor,
                patient_id,
                fields.get("area", ""),
                fields.get("date", ""),
                fields.get("severity", ""),
                severity_rest=fields.get("severity_rest") or None,
            )
    except InvalidInputError as exc:
        context = _patient_context(session, actor, patient_id, dt.date.today(), exc.by_field())
        context["score_values"] = fields
        context["score_area"] = fields.get("area", "")
        return render(request, "patient.html", context, status_code=422)
    flash(request, f"Score {record.severity} recorded for {load_catalog().areas[record.area].short_label}.")
    return redirect(f"/patients/{patient_id}#area-{record.area}")


def _void(request: Request, patient_id: str, void: Callable[[], str]) -> Response:
    """Run ``void`` (which returns what was voided, in words; it writes nothing unless it succeeds); say what
    happened either way and go back to the patient's page (a double click or a stale page finds nothing to void)."""
    try:
        what = void()
    except (InvalidInputError, NotFoundError) as exc:
        flash(request, f"Not voided: {exc.message}")
    else:
        flash(request, f"{what} voided; it is kept with the reason.")
    return redirect(f"/patients/{patient_id}")


@router.post("/patients/{patient_id}/treatments/{treatment_id}/void", dependencies=[CsrfChecked])
async def void_treatment(
    request: Request, patient_id: str, treatment_id: str, actor: PageActor, session: DbSession
) -> Response:
    fields = await form_fields(request)

    def void() -> str:
        view = treatments.void(session, actor, patient_id, treatment_id, fields.get("reason", ""))
        return f"Treatment of {view.date:%d %b %Y} ({view.units:g} U)"

    return _void(request, patient_id, void)


@router.post("/patients/{patient_id}/scores/void", dependencies=[CsrfChecked])
async def void_score(request: Request, patient_id: str, actor: PageActor, session: DbSession) -> Response:
    fields = await form_fields(request)

    def void() -> str:
        try:
            day = dt.date.fromisoformat(fields.get("date", ""))
        except ValueError:
            raise InvalidInputError.one("date", "the score's date must be YYYY-MM-DD; reload the page") from None
        area, rater, reason = fields.get("area", ""), fields.get("rater", ""), fields.get("reason", "")
        score = assessments.void(session, actor, patient_id, area, day, rater, reason)
        return f"Score {score.severity} of {score.date:%d %b %Y}"

    return _void(request, patient_id, void)


@router.post("/patients/{patient_id}/appointments", dependencies=[CsrfChecked])
async def book(request: Request, patient_id: str, actor: PageActor, session: DbSession) -> Response:
    fields = await form_fields(request)
    try:
        with session.begin_nested():
            view = appointments.book(session, actor, patient_id, fields.get("date", ""), fields.get("note"))
    except InvalidInputError as exc:
        context = _patient_context(session, actor, patient_id, dt.date.today())
        context["booking_errors"] = exc.by_field()
        context["booking_values"] = fields
        return render(request, "patient.html", context, status_code=422)
    flash(request, f"Visit booked for {view.date:%d %b %Y}.")
    return redirect(f"/patients/{patient_id}")


@router.post("/patients/{patient_id}/followup-link", dependencies=[Depends(check_csrf)])
def followup_link(request: Request, patient_id: str, actor: PageActor, session: DbSession) -> Response:
    settings = request.app.state.settings
    token, areas = followup.make_link_token(session, actor, patient_id, settings.secret_key)
    url = str(request.base_url).rstrip("/") + f"/f/{token}"
    return render(
        request,
        "partials/followup_link.html",
        {"url": url, "areas": areas, "days": settings.followup_link_days},
    )


@router.get("/patients/{patient_id}/summary")
def summary(request: Request, patient_id: str, actor: PageActor, session: DbSession) -> Response:
    """A printable plain-language summary for the patient."""
    as_of = dt.date.today()
    info = patients.get_patient(session, actor, patient_id)
    plans = forecasts.patient_plans(session, actor, patient_id, as_of)
    return render(
        request,
        "summary.html",
        {
            "patient": info,
            "plans": plans,
            "as_of": as_of,
            "bookings": appointments.upcoming(session, actor, patient_id),
            "clinic": actor.clinic,
        },
    )
