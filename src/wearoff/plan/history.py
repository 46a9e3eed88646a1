"""From clinic records to what the model needs: each patient's treatments as episodes with their scores.

Records are plain values here (:mod:`wearoff.records.values`: the clinic database, the CSV files and the
simulator all produce them), and every function takes an ``as_of`` date and uses only what was recorded on or
before it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from wearoff.model.personal import Episode, Observation
from wearoff.model.treatment import Treatment
from wearoff.records.values import AssessmentRecord, PatientHistory, PatientInfo, TreatmentRecord

CONDITIONING_WINDOW_DAYS = 365
"""Earlier treatments of the area within this many days count as regular treatments (conditioning)."""
PRE_TREATMENT_DAYS = 14
"""A score up to this many days before a treatment (or on its day) is its pre-treatment score."""


@dataclass(frozen=True)
class AreaCourse:
    """A patient's latest treatment of one area as of a date, the model's view of it, and the history."""

    patient: PatientInfo
    latest: TreatmentRecord
    treatment: Treatment
    history: list[Episode]
    earlier_treatments: int
    current: Episode | None = None


def baseline_severity(area_scores: list[AssessmentRecord], treatments: list[TreatmentRecord]) -> int | None:
    """The area's untreated severity: the highest pre-treatment score (up to ``PRE_TREATMENT_DAYS`` before a
    treatment, or on its day; clinicians' scores first), else the highest score seen; None when nothing usable
    was recorded. The highest, because a single score is noisy and a re-treatment may come before full wear-off."""
    if not area_scores:
        return None
    days = sorted(t.date for t in treatments)
    # a score is pre-treatment when the first treatment on or after its day comes within PRE_TREATMENT_DAYS
    following = [bisect_left(days, a.date) for a in area_scores]
    pre = [
        a
        for a, i in zip(area_scores, following, strict=True)
        if i < len(days) and days[i] - a.date <= timedelta(days=PRE_TREATMENT_DAYS)
    ]
    by_clinician = [a for a in pre if a.rater == "clinician"]
    chosen = by_clinician or pre or area_scores
    grade = max(a.severity for a in chosen)
    return grade if grade >= 1 else None


def regular_treatments(earlier: list[TreatmentRecord], on: date) -> int:
    """How many of an area's earlier treatments count as regular treatments on ``on`` (conditioning): those within
    :data:`CONDITIONING_WINDOW_DAYS`."""
    return sum(1 for e in earlier if (on - e.date).days <= CONDITIONING_WINDOW_DAYS)


def courses_as_of(history: PatientHistory, as_of: date, *, with_history: bool = True) -> list[AreaCourse]:
    """For each area the patient had treated on or before ``as_of``: the latest treatment and the history.

    The history holds every treatment of the patient on or before ``as_of`` (all areas: the random effects are
    the patient's) with the scores of its area after its day and before the area's next treatment.
    """
    patient = history.patient
    every_treatment = [t for area in history.areas.values() for t in area.treatments]
    treatments = sorted((t for t in every_treatment if t.date <= as_of), key=lambda t: (t.date, t.treatment_id))
    scores = [a for area in history.areas.values() for a in area.assessments if a.date <= as_of]
    by_area: dict[str, list[TreatmentRecord]] = defaultdict(list)
    for t in treatments:
        by_area[t.area].append(t)
    scores_by_area: dict[str, list[AssessmentRecord]] = defaultdict(list)
    for a in scores:
        scores_by_area[a.area].append(a)
    model_treatments: dict[str, Treatment] = {}
    episodes: list[Episode] = []
    own_episode: dict[str, Episode] = {}
    for area, area_treatments in by_area.items():
        grade = baseline_severity(scores_by_area[area], area_treatments)
        for i, t in enumerate(area_treatments):
            regular = regular_treatments(area_treatments[:i], t.date)
            model_t = Treatment(
                t.product,
                area,
                float(t.units),
                sex=patient.sex,  # type: ignore[arg-type]
                activity=patient.activity,
                prior_treatments=regular,  # type: ignore[arg-type]
                baseline_severity=grade,
            )
            model_treatments[t.treatment_id] = model_t
            if with_history:
                until = area_treatments[i + 1].date if i + 1 < len(area_treatments) else as_of + timedelta(days=1)
                obs = tuple(
                    Observation(float((a.date - t.date).days), a.severity, a.rater)
                    for a in scores_by_area[area]
                    if t.date < a.date < until
                )
                episodes.append(Episode(model_t, obs))
                own_episode[t.treatment_id] = episodes[-1]
    return [
        AreaCourse(
            patient,
            area_treatments[-1],
            model_treatments[area_treatments[-1].treatment_id],
            episodes,
            len(area_treatments) - 1,
            own_episode.get(area_treatments[-1].treatment_id),
        )
        for area, area_treatments in sorted(by_area.items())
    ]


def patient_episodes(history: PatientHistory, as_of: date | None = None) -> list[Episode]:
    """Every treatment of the patient on or before ``as_of`` (default: their last record) with its scores: what
    the patient's random effects are learnt from (the history shared by :func:`courses_as_of`'s courses)."""
    if as_of is None:
        dates = [r.date for area in history.areas.values() for r in (*area.treatments, *area.assessments)]
        if not dates:
            return []
        as_of = max(dates)
    courses = courses_as_of(history, as_of)
    return courses[0].history if courses else []
