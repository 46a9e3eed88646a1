"""Views computed from a whole clinic's records (the due list, the alerts, the durations), kept until the
clinic's records change: the records are read once for all of them, and read again only after a write."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wearoff.records import repository
from wearoff.records.models import Amendment, Assessment, Injection, Patient
from wearoff.records.values import PatientHistory
from wearoff.web.actor import Actor

T = TypeVar("T")


@dataclass
class _Clinic:
    fingerprint: tuple
    histories: list[PatientHistory]
    views: dict[Hashable, Any] = field(default_factory=dict)


_clinics: dict[tuple[str, int], _Clinic] = {}
_lock = threading.Lock()


def fingerprint(session: Session, clinic_id: int) -> tuple:
    """Changes whenever the clinic's patients, treatments or scores are added, corrected or voided."""
    patients = session.execute(select(func.count(), func.max(Patient.id)).where(Patient.clinic_id == clinic_id)).one()
    injections = session.execute(
        select(func.count(), func.max(Injection.id)).where(Injection.clinic_id == clinic_id)
    ).one()
    scores = session.execute(
        select(func.count(), func.max(Assessment.id))
        .join(Patient, Assessment.patient_id == Patient.id)
        .where(Patient.clinic_id == clinic_id)
    ).one()
    # voids and amendments change no count; the amendments table names no clinic, so any clinic's correction
    # refreshes every clinic's views (rare, and cheaper than joining each amended table)
    corrections = session.scalar(select(func.max(Amendment.id)))
    return (*patients, *injections, *scores, corrections)


def clinic_view(session: Session, actor: Actor, key: Hashable, compute: Callable[[list[PatientHistory]], T]) -> T:
    """``compute(histories)`` of the actor's clinic, computed once per ``key`` until the clinic's records change
    (``key`` names the view and whatever else it depends on, e.g. the day). Callers check permissions first."""
    where = (session.get_bind().url.render_as_string(hide_password=True), actor.clinic_id)
    current = fingerprint(session, actor.clinic_id)
    with _lock:
        clinic = _clinics.get(where)
        if clinic is not None and clinic.fingerprint == current and key in clinic.views:
            return clinic.views[key]
    if clinic is None or clinic.fingerprint != current:
        clinic = _Clinic(current, repository.clinic_histories(session, actor.clinic))
    value = compute(clinic.histories)
    with _lock:
        stored = _clinics.get(where)
        if stored is None or stored.fingerprint != current:
            _clinics[where] = stored = clinic
        stored.views[key] = value
    return value
