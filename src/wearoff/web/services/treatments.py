"""Charting a treatment: the safety check before saving (with the forecast it would get), and saving it."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from wearoff.catalog import load_catalog
from wearoff.plan.guards import Flag, check_treatment
from wearoff.plan.patient_plan import AreaPlan, plan_patient
from wearoff.records import repository
from wearoff.records import validation as v
from wearoff.records.models import Injection, Patient, TreatmentSession
from wearoff.records.values import AreaHistory, PatientHistory, TreatmentRecord
from wearoff.web.actor import Actor
from wearoff.web.errors import FieldProblem, InvalidInputError, NotFoundError
from wearoff.web.services import audit
from wearoff.web.services.patients import patient_row
from wearoff.web.services.storing import store, text, void_row


@dataclass(frozen=True)
class TreatmentInput:
    """A treatment as a form or the API gives it (text or typed values; checked by the services)."""

    date: Any
    product: Any
    area: Any
    units: Any
    lot: Any = None
    expiry: Any = None
    dilution_ml: Any = None
    injector: Any = None
    points: list[dict[str, Any]] | None = None
    treatment_id: Any = None


@dataclass(frozen=True)
class TreatmentView:
    """A stored treatment with its injection points."""

    treatment_id: str
    date: dt.date
    product: str
    area: str
    units: float
    lot: str | None
    expiry: dt.date | None
    dilution_ml: float | None
    injector: str | None
    points: list[dict[str, float]] | None


@dataclass(frozen=True)
class TreatmentCheck:
    """What the clinician sees before saving: the guards' flags and the forecast the treatment would get."""

    treatment: TreatmentRecord
    flags: list[Flag]
    plan: AreaPlan | None


def _parse(data: TreatmentInput, today: dt.date) -> TreatmentRecord:
    """The treatment as a record, or :class:`InvalidInputError` naming every bad field."""
    catalog = load_catalog()
    problems: list[FieldProblem] = []

    def field(name: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return parse(*args, **kwargs)
        except v.FieldError as exc:
            problems.append(FieldProblem(name, str(exc)))
            return None

    date = field("date", v.parse_date, text(data.date), today=today)
    product = field("product", v.parse_product, text(data.product), catalog)
    area = field("area", v.parse_area, text(data.area), catalog)
    units = field("units", v.parse_units, text(data.units), product, catalog)
    lot = field("lot", v.parse_text, text(data.lot), "lot")
    expiry = field("expiry", v.parse_expiry, text(data.expiry))
    dilution = field("dilution_ml", v.parse_dilution, text(data.dilution_ml))
    injector = field("injector", v.parse_text, text(data.injector), "injector")
    field("points", v.parse_points, data.points)
    if expiry is not None and date is not None and expiry < date:
        problems.append(FieldProblem("expiry", f"the product expired on {expiry} before the treatment date {date}"))
    if problems:
        raise InvalidInputError(problems)
    return TreatmentRecord("new", date, product, area, units, lot, expiry, dilution, injector)


def _history_with(history: PatientHistory, proposed: TreatmentRecord) -> PatientHistory:
    areas = dict(history.areas)
    area = areas.get(proposed.area, AreaHistory(proposed.area))
    areas[proposed.area] = AreaHistory(proposed.area, [*area.treatments, proposed], list(area.assessments))
    return PatientHistory(history.patient, dict(sorted(areas.items())))


def check(
    session: Session, actor: Actor, patient_id: str, data: TreatmentInput, *, today: dt.date | None = None
) -> TreatmentCheck:
    """The warnings of :func:`wearoff.plan.guards.check_treatment` for this treatment of this patient, and the
    forecast it would get (:func:`wearoff.plan.patient_plan.plan_patient` with it added). Stores nothing."""
    actor.require("clinical.write")
    patient_row(session, actor, patient_id)
    proposed = _parse(data, today or dt.date.today())
    history = repository.patient_history(session, patient_id, actor.clinic)
    earlier = [t for a in history.areas.values() for t in a.treatments]
    flags = check_treatment(proposed, history.patient.sex, earlier)
    plans = plan_patient(_history_with(history, proposed), proposed.date, with_advice=False)
    plan = next((p for p in plans if p.area == proposed.area and p.latest.treatment_id == "new"), None)
    return TreatmentCheck(proposed, flags, plan)


def _new_id(date: dt.date) -> str:
    return f"T{date:%Y%m%d}-{secrets.token_hex(3).upper()}"


def create(
    session: Session, actor: Actor, patient_id: str, data: TreatmentInput, *, today: dt.date | None = None
) -> tuple[TreatmentView, list[Flag]]:
    """Store the treatment (checked as an import checks treatments.csv, plus the points) and return it with the
    warnings it raised; every problem is an :class:`InvalidInputError` and nothing is stored."""
    actor.require("clinical.write")
    patient = patient_row(session, actor, patient_id)
    today = today or dt.date.today()
    proposed = _parse(data, today)
    history = repository.patient_history(session, patient_id, actor.clinic)
    flags = check_treatment(proposed, history.patient.sex, [t for a in history.areas.values() for t in a.treatments])
    treatment_id = text(data.treatment_id) or _new_id(proposed.date)
    row = {
        "treatment_id": treatment_id,
        "patient_id": patient.external_id,
        "date": proposed.date,
        "product": proposed.product,
        "area": proposed.area,
        "units": proposed.units,
        "lot": proposed.lot,
        "expiry": proposed.expiry,
        "dilution_ml": proposed.dilution_ml,
        "injector": proposed.injector or actor.display_name[:100],
    }
    if _exists(session, actor, treatment_id):
        raise InvalidInputError.one(
            "treatment_id",
            f"treatment {treatment_id!r} exists already in this clinic; give another id, or none for a new one",
        )
    store(session, actor, treatments=row, today=today)
    injection = repository.treatment_row(session, treatment_id, actor.clinic)
    points = v.parse_points(data.points)
    if points:
        injection.points = points
        session.flush()
    view = _view(injection, injection.session)
    audit.record(
        session, actor, "create", "treatment", treatment_id, after={**audit.jsonable(view), "patient_id": patient_id}
    )
    return view, flags


def _exists(session: Session, actor: Actor, treatment_id: str) -> bool:
    return (
        session.scalar(
            select(Injection.id).where(Injection.clinic_id == actor.clinic_id, Injection.external_id == treatment_id)
        )
        is not None
    )


def _view(i: Injection, s: TreatmentSession) -> TreatmentView:
    return TreatmentView(
        i.external_id,
        s.date,
        i.product,
        i.area,
        i.units,
        i.lot,
        i.expiry,
        i.dilution_ml,
        i.injector or s.injector,
        i.points,
    )


def _live_treatments(patient_pk: int) -> Select[tuple[Injection, TreatmentSession]]:
    """The patient's treatments (injections with their sessions) that neither the injection nor its session voided."""
    return (
        select(Injection, TreatmentSession)
        .join(TreatmentSession, Injection.session_id == TreatmentSession.id)
        .where(
            TreatmentSession.patient_id == patient_pk, TreatmentSession.voided.is_(False), Injection.voided.is_(False)
        )
    )


def list_for(session: Session, actor: Actor, patient_id: str) -> list[TreatmentView]:
    """The patient's live treatments, newest first."""
    actor.require("clinical.read")
    patient = patient_row(session, actor, patient_id)
    rows = session.execute(_live_treatments(patient.id).order_by(TreatmentSession.date.desc(), Injection.area)).all()
    return [_view(i, s) for i, s in rows]


def recent(session: Session, actor: Actor, *, limit: int = 8) -> list[tuple[str, TreatmentView]]:
    """The clinic's latest treatments (patient id, treatment), newest first."""
    actor.require("clinical.read")
    rows = session.execute(
        select(Patient.external_id, Injection, TreatmentSession)
        .join(TreatmentSession, Injection.session_id == TreatmentSession.id)
        .join(Patient, TreatmentSession.patient_id == Patient.id)
        .where(
            Patient.clinic_id == actor.clinic_id,
            Patient.voided.is_(False),
            TreatmentSession.voided.is_(False),
            Injection.voided.is_(False),
        )
        .order_by(TreatmentSession.date.desc(), Injection.id.desc())
        .limit(limit)
    ).all()
    return [(pid, _view(i, s)) for pid, i, s in rows]


def void(session: Session, actor: Actor, patient_id: str, treatment_id: str, reason: str) -> TreatmentView:
    """Mark a treatment entered in error as voided (:func:`wearoff.records.repository.void`): it stays stored with
    the reason and who voided it, and leaves the history, exports and forecasts. ``reason`` is required."""
    actor.require("clinical.write")
    patient = patient_row(session, actor, patient_id)
    found = session.execute(_live_treatments(patient.id).where(Injection.external_id == treatment_id)).first()
    if found is None:
        raise NotFoundError(
            f"patient {patient_id} has no live treatment {treatment_id!r}: it may be voided already; reload the "
            "patient's treatments"
        )
    injection, treatment_session = found
    before = _view(injection, treatment_session)
    void_row(session, actor, injection, "treatment", treatment_id, before, reason)
    return before
