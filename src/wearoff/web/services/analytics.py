"""How long it lasts here: wear-off in the clinic's own records, by area, product and injector; and the alerts of
the dashboard (antibody suspicion, warnings on recent treatments).

Each treatment's wear-off is interval-censored between the last clinician score with effect and the first back at
the area's untreated grade (:func:`wearoff.analytics.treatment_durations`, the rule ``wearoff analytics`` uses);
medians and quartiles are Turnbull estimates (:func:`wearoff.survival.turnbull`), so treatments re-treated
before they wore off count as censored instead of biasing the medians short. A median read from fewer than
``MIN_EVENTS`` returns seen (the analytics report's rule for comparing with the model) is marked as such on the
page and left out of its chart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from wearoff.analytics import treatment_durations
from wearoff.catalog import load_catalog
from wearoff.plan.guards import Flag, antibody_suspicion, check_treatment
from wearoff.plan.history import baseline_severity
from wearoff.records.values import PatientHistory
from wearoff.survival import turnbull
from wearoff.web.actor import Actor
from wearoff.web.services.clinic_cache import clinic_view


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


def _rows(table: pd.DataFrame, column: str, labels: dict[str, str]) -> list[DurationRow]:
    rows = []
    for key, part in table.groupby(column, sort=False):
        observed = int(np.isfinite(part["upper"]).sum())
        q25 = median = q75 = None
        if observed:
            fit = turnbull(part["lower"].to_numpy(), part["upper"].to_numpy())
            q25, median, q75 = (fit.percentile(p) for p in (0.75, 0.5, 0.25))
            q25, median, q75 = (v if np.isfinite(v) else None for v in (q25, median, q75))
        rows.append(DurationRow(str(key), labels.get(str(key), str(key)), len(part), observed, median, q25, q75))
    return sorted(rows, key=lambda r: (-r.treatments, r.label))


def _durations(histories: list[PatientHistory]) -> ClinicDurations:
    catalog = load_catalog()
    table = treatment_durations(histories, catalog).table
    area_labels = {code: a.short_label for code, a in catalog.areas.items()}
    return ClinicDurations(
        _rows(table, "area", area_labels),
        _rows(table, "product", {}),
        _rows(table, "injector", {}),
        len(table),
        int(np.isfinite(table["upper"]).sum()),
    )


def durations(session: Session, actor: Actor) -> ClinicDurations:
    """Wear-off of the clinic's treatments by area, product and injector (see the module docstring), computed
    once until the clinic's records change."""
    actor.require("clinical.read")
    return clinic_view(session, actor, "durations", (), _durations)


@dataclass(frozen=True)
class Alert:
    """A flag worth a clinician's attention, with the patient it concerns."""

    patient_id: str
    area: str
    date: dt.date
    flag: Flag


RECENT_DAYS = 30
"""Treatments whose warnings the dashboard shows: the last month's, the ones a clinic can still act on before
the next booking (a choice of the app)."""


def alerts(
    session: Session, actor: Actor, *, as_of: dt.date | None = None, recent_days: int = RECENT_DAYS
) -> list[Alert]:
    """Antibody suspicion in any patient's area, and the warnings the guards give on treatments of the last
    ``recent_days`` days; most serious first."""
    actor.require("clinical.read")
    day = as_of or dt.date.today()
    return clinic_view(session, actor, "alerts", (day, recent_days), lambda h: _alerts(h, day, recent_days))


def _alerts(histories: list[PatientHistory], day: dt.date, recent_days: int) -> list[Alert]:
    out: list[Alert] = []
    for h in histories:
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
