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
    views: dict[str, tuple[Hashable, Any]] = field(default_factory=dict)


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


def clinic_view(
    session: Session, actor: Actor, name: str, args: Hashable, compute: Callable[[list[PatientHistory]], T]
) -> T:
    """``compute(histories)`` of the actor's clinic for the view ``name`` and what else it depends on (``args``,
    e.g. the day), kept until the clinic's records change or the view is asked with other ``args``: one value a
    view, so callers' arguments (a date in a query string) cannot grow the cache. Callers check permissions
    first."""
    where = (session.get_bind().url.render_as_string(hide_password=True), actor.clinic_id)
    current = fingerprint(session, actor.clinic_id)
    with _lock:
        clinic = _clinics.get(where)
        if clinic is not None and clinic.fingerprint == current and clinic.views.get(name, (None,))[0] == args:
            return clinic.views[name][1]
    if clinic is None or clinic.fingerprint != current:
        clinic = _Clinic(current, repository.clinic_histories(session, actor.clinic))
    value = compute(clinic.histories)
    with _lock:
        stored = _clinics.get(where)
        if stored is None or stored.fingerprint != current:
            _clinics[where] = stored = clinic
        stored.views[name] = (args, value)
    return value
