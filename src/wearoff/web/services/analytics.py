"""How long it lasts here: observed wear-off in the clinic's own records, by area, product and injector; and the
alerts of the dashboard (antibody suspicion, warnings on recent treatments).

Observed wear-off of a treatment is the number of days until the first score back at the area's untreated grade
(:func:`wearoff.plan.history.baseline_severity`), counting the scores after the first ``REVIEW_DAYS`` days (an
early score at baseline means no response, not wear-off) up to and including the day of the area's next
treatment (the clinician's pre-treatment score). Treatments re-treated before such a score are not observed: the
medians describe the treatments that were, and are shown with both counts. The survival analysis of the records
(interval-censored) is the analytics engine's job.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from wearoff.catalog import load_catalog
from wearoff.plan.guards import Flag, antibody_suspicion, check_treatment
from wearoff.plan.history import baseline_severity
from wearoff.records import repository
from wearoff.records.values import AssessmentRecord, PatientHistory, TreatmentRecord
from wearoff.web.actor import Actor

NOT_RECORDED = "(not recorded)"


@dataclass(frozen=True)
class DurationRow:
    """Observed wear-off of one group of treatments."""

    group: str
    label: str
    treatments: int
    observed: int
    median_days: float | None
    q25_days: float | None
    q75_days: float | None


@dataclass(frozen=True)
class ClinicDurations:
    """Observed wear-off by area, product and injector."""

    by_area: list[DurationRow]
    by_product: list[DurationRow]
    by_injector: list[DurationRow]
    treatments: int
    observed: int


REVIEW_DAYS = 21


def observed_days(treatments: list[TreatmentRecord], scores: list[AssessmentRecord], baseline: int) -> list[int | None]:
    """Per treatment of one area (date order): the first day after ``REVIEW_DAYS`` with a score at or above the
    untreated grade, up to the next treatment's day; None when there is none."""
    ordered = sorted(treatments, key=lambda t: t.date)
    out: list[int | None] = []
    for i, t in enumerate(ordered):
        until = ordered[i + 1].date if i + 1 < len(ordered) else dt.date.max
        later = sorted(
            (s for s in scores if t.date < s.date <= until and (s.date - t.date).days > REVIEW_DAYS),
            key=lambda s: s.date,
        )
        out.append(next(((s.date - t.date).days for s in later if s.severity >= baseline), None))
    return out


def _observations(histories: list[PatientHistory]) -> list[tuple[TreatmentRecord, int | None]]:
    out: list[tuple[TreatmentRecord, int | None]] = []
    for h in histories:
        for area in h.areas.values():
            if not area.treatments:
                continue
            baseline = baseline_severity(area.assessments, area.treatments)
            if baseline is None:
                out += [(t, None) for t in area.treatments]
                continue
            ordered = sorted(area.treatments, key=lambda t: t.date)
            out += list(zip(ordered, observed_days(ordered, area.assessments, baseline), strict=True))
    return out


def _rows(groups: dict[str, list[int | None]], labels: dict[str, str]) -> list[DurationRow]:
    rows = []
    for key, values in groups.items():
        seen = sorted(d for d in values if d is not None)
        if len(seen) >= 2:
            q = statistics.quantiles(seen, n=4, method="inclusive")
            q25, median, q75 = q[0], q[1], q[2]
        else:
            q25 = median = q75 = float(seen[0]) if seen else None
        rows.append(DurationRow(key, labels.get(key, key), len(values), len(seen), median, q25, q75))
    return sorted(rows, key=lambda r: (-r.treatments, r.label))


def durations(session: Session, actor: Actor) -> ClinicDurations:
    """Observed wear-off of the clinic's treatments by area, product and injector (see the module docstring)."""
    actor.require("clinical.read")
    histories = repository.clinic_histories(session, actor.clinic)
    observations = _observations(histories)
    catalog = load_catalog()
    by_area: dict[str, list[int | None]] = defaultdict(list)
    by_product: dict[str, list[int | None]] = defaultdict(list)
    by_injector: dict[str, list[int | None]] = defaultdict(list)
    for t, back in observations:
        by_area[t.area].append(back)
        by_product[t.product].append(back)
        by_injector[t.injector or NOT_RECORDED].append(back)
    area_labels = {code: a.label for code, a in catalog.areas.items()}
    return ClinicDurations(
        _rows(by_area, area_labels),
        _rows(by_product, {}),
        _rows(by_injector, {}),
        len(observations),
        sum(1 for _, b in observations if b is not None),
    )


@dataclass(frozen=True)
class Alert:
    """A flag worth a clinician's attention, with the patient it concerns."""

    patient_id: str
    area: str
    date: dt.date
    flag: Flag


def alerts(session: Session, actor: Actor, *, as_of: dt.date | None = None, recent_days: int = 30) -> list[Alert]:
    """Antibody suspicion in any patient's area, and the warnings the guards give on treatments of the last
    ``recent_days`` days; most serious first."""
    actor.require("clinical.read")
    day = as_of or dt.date.today()
    out: list[Alert] = []
    for h in repository.clinic_histories(session, actor.clinic):
        every = [t for a in h.areas.values() for t in a.treatments]
        for area in h.areas.values():
            if not area.treatments:
                continue
            baseline = baseline_severity(area.assessments, area.treatments)
            suspicion = antibody_suspicion(area.treatments, area.assessments, baseline)
            if suspicion is not None:
                out.append(Alert(h.patient.patient_id, area.area, area.treatments[-1].date, suspicion))
            for t in area.treatments:
                if 0 <= (day - t.date).days <= recent_days:
                    earlier = [
                        e for e in every if e.date < t.date or (e.date == t.date and e is not t and e.area != t.area)
                    ]
                    for flag in check_treatment(t, h.patient.sex, earlier):
                        out.append(Alert(h.patient.patient_id, t.area, t.date, flag))
    rank = {"stop": 0, "warn": 1, "info": 2}
    return sorted(out, key=lambda a: (rank.get(a.flag.level, 3), -a.date.toordinal(), a.patient_id))
