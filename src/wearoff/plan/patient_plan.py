"""One patient's plan as of a date: per treated area, the forecast of the latest treatment, its re-booking
window, the safety flags of re-treating then, the explanation and the advice.

Every door that shows a patient (``wearoff patient show``, the web pages, the REST API, the printable summary)
builds it here, so they all say the same thing. The forecast is the one of :func:`wearoff.model.forecast.forecast`,
personalised by the patient's records on or before the date (:func:`wearoff.plan.history.courses_as_of`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from wearoff.catalog import Catalog, load_catalog
from wearoff.model.forecast import Forecast, forecast
from wearoff.model.parameters import Parameters, load_parameters
from wearoff.plan.explain import Effect, advise, explain
from wearoff.plan.guards import Flag, antibody_suspicion, check_treatment
from wearoff.plan.history import AreaCourse, courses_as_of
from wearoff.plan.window import RebookWindow, rebook_window
from wearoff.records.values import AssessmentRecord, PatientHistory, TreatmentRecord


@dataclass(frozen=True)
class Score:
    """A follow-up score placed on the latest treatment's time axis (days since it)."""

    day: float
    severity: int
    rater: str
    date: date


@dataclass(frozen=True)
class AreaPlan:
    """What a clinician needs for one area: the latest treatment's forecast and what to do next."""

    area: str
    course: AreaCourse
    treatments: list[TreatmentRecord]
    assessments: list[AssessmentRecord]
    forecast: Forecast
    window: RebookWindow
    flags: list[Flag]
    reference_day: float
    effects: list[Effect]
    advice: list[Effect]
    scores: list[Score]

    @property
    def latest(self) -> TreatmentRecord:
        """The treatment the forecast is about."""
        return self.course.latest

    @property
    def window_days(self) -> tuple[int, int]:
        """The window as days since the latest treatment."""
        treated = self.course.latest.date
        return (self.window.opens - treated).days, (self.window.closes - treated).days


def next_treatment(latest: TreatmentRecord, on: date) -> TreatmentRecord:
    """The latest treatment repeated on ``on``: what the guards check when the patient comes back then."""
    return replace(latest, treatment_id=f"{latest.treatment_id}-next", date=on)


def plan_area(
    history: PatientHistory,
    course: AreaCourse,
    as_of: date,
    *,
    params: Parameters | None = None,
    catalog: Catalog | None = None,
    with_advice: bool = True,
) -> AreaPlan:
    """The plan of one area (see the module docstring)."""
    params = params or load_parameters()
    catalog = catalog or load_catalog()
    area = history.areas[course.treatment.area]
    treatments = [t for t in area.treatments if t.date <= as_of]
    assessments = [a for a in area.assessments if a.date <= as_of]
    f = forecast(course.treatment, params, catalog, course.history, course.current)
    window = rebook_window(course.latest.date, f, catalog)
    every = [t for a in history.areas.values() for t in a.treatments if t.date <= as_of]
    flags = check_treatment(next_treatment(course.latest, window.opens), history.patient.sex, every, catalog)
    suspicion = antibody_suspicion(treatments, assessments, course.treatment.baseline_severity, catalog)
    if suspicion is not None:
        flags = [*flags, suspicion]
    if with_advice:
        _, reference, effects = explain(course.treatment, course.history, params, catalog)
        advice = advise(course.treatment, course.history, params, catalog)
    else:
        reference, effects, advice = float("nan"), [], []
    scores = [
        Score(float((a.date - course.latest.date).days), a.severity, a.rater, a.date)
        for a in assessments
        if a.date > course.latest.date
    ]
    return AreaPlan(area.area, course, treatments, assessments, f, window, flags, reference, effects, advice, scores)


def plan_patient(
    history: PatientHistory,
    as_of: date,
    *,
    params: Parameters | None = None,
    catalog: Catalog | None = None,
    with_advice: bool = True,
) -> list[AreaPlan]:
    """The plan of every area the patient had treated on or before ``as_of``, in area order."""
    params = params or load_parameters()
    catalog = catalog or load_catalog()
    return [
        plan_area(history, course, as_of, params=params, catalog=catalog, with_advice=with_advice)
        for course in courses_as_of(history, as_of)
    ]
