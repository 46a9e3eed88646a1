"""Signed, expiring follow-up links: a patient rates their own lines (0-3) without an account.

A link carries the clinic, the patient id and the areas to rate, signed with the app's secret key; it expires
after the configured number of days. Scores given through it are stored with rater ``patient``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from wearoff.catalog import load_catalog
from wearoff.records import repository
from wearoff.records.models import Clinic
from wearoff.web.actor import Actor
from wearoff.web.errors import NotFoundError
from wearoff.web.services import assessments, audit
from wearoff.web.services.patients import patient_row

SALT = "wearoff-followup-link"


@dataclass(frozen=True)
class FollowUp:
    """What a valid link lets its holder do."""

    clinic_id: int
    clinic: str
    patient_id: str
    areas: list[str]

    def actor(self) -> Actor:
        return Actor(None, f"patient:{self.patient_id}"[:64], "the patient", "patient", self.clinic_id, self.clinic)


def make_link_token(session: Session, actor: Actor, patient_id: str, secret: str) -> tuple[str, list[str]]:
    """A signed token for the patient's treated areas (clinical staff only)."""
    actor.require("clinical.write")
    patient_row(session, actor, patient_id)
    history = repository.patient_history(session, patient_id, actor.clinic)
    areas = [a for a, h in history.areas.items() if h.treatments]
    if not areas:
        from wearoff.web.errors import InvalidInputError

        raise InvalidInputError.one(
            "", "the patient has no treated area to rate yet; chart a treatment first, then send the link"
        )
    token = URLSafeTimedSerializer(secret, salt=SALT).dumps({"c": actor.clinic_id, "p": patient_id, "a": areas})
    audit.record(session, actor, "create", "followup_link", patient_id, after={"areas": areas})
    return token, areas


def read_link_token(session: Session, token: str, secret: str, max_days: int) -> FollowUp:
    """The follow-up a token allows, else :class:`NotFoundError` (bad, altered or expired links look alike)."""
    try:
        data = URLSafeTimedSerializer(secret, salt=SALT).loads(token, max_age=max_days * 86400)
    except SignatureExpired:
        raise NotFoundError("this follow-up link has expired; ask the clinic for a new one") from None
    except (BadSignature, ValueError, TypeError):
        raise NotFoundError("this follow-up link is not valid; ask the clinic for a new one") from None
    clinic = session.get(Clinic, int(data["c"]))
    if clinic is None:
        raise NotFoundError("this follow-up link is not valid; ask the clinic for a new one")
    return FollowUp(clinic.id, clinic.name, str(data["p"]), [str(a) for a in data["a"]])


def area_labels(areas: list[str]) -> dict[str, str]:
    catalog = load_catalog()
    return {a: catalog.areas[a].label if a in catalog.areas else a for a in areas}


def submit(session: Session, follow: FollowUp, scores: dict[str, object], today: dt.date | None = None) -> int:
    """Store the patient's scores (area -> 0-3; blank areas are skipped) dated today; returns how many."""
    from wearoff.web.errors import InvalidInputError

    actor = follow.actor()
    day = today or dt.date.today()
    given = {a: s for a, s in scores.items() if a in follow.areas and str(s).strip() != ""}
    if not given:
        raise InvalidInputError.one("", "choose a score for at least one area")
    with session.begin_nested():
        for area, severity in given.items():
            assessments.create(session, actor, follow.patient_id, area, day, severity, rater="patient", today=day)
    return len(given)
