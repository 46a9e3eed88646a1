"""The clinic records schema (SQLAlchemy 2 typed declarative).

Identifiers: every table has an integer surrogate key ``id``; the ids a clinic uses (the CSV's ``patient_id`` and
``treatment_id``) are stored as ``external_id``, unique per clinic. Foreign keys are named ``<table>_id`` and point
at surrogate keys.

Clinical rows (patients, sessions, injections, assessments, adverse events, notes) are never hard-deleted: a
correction is an :class:`Amendment` that keeps the old value (see :func:`wearoff.records.repository.amend`), and a
row entered in error is marked ``voided`` (:func:`wearoff.records.repository.void`). Queries used for forecasting
skip voided rows.

Enumerations and ranges are CHECK constraints; constraint names follow :data:`NAMING_CONVENTION` so that the
migrations in ``migrations/versions`` name them identically.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time in UTC (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with the naming convention of the migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Voidable:
    """Mixin of clinical rows: ``voided`` rows stay in the database but are hidden from history and forecasts."""

    voided: Mapped[bool] = mapped_column(default=False, server_default=false())


class Clinic(Base):
    """A clinic: the namespace of external patient and treatment ids."""

    __tablename__ = "clinic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Patient(Voidable, Base):
    """A patient of one clinic; ``external_id`` is the clinic's patient_id."""

    __tablename__ = "patient"
    __table_args__ = (
        UniqueConstraint("clinic_id", "external_id"),
        CheckConstraint("sex IN ('female', 'male')", name="sex"),
        CheckConstraint("activity IN ('low', 'moderate', 'high')", name="activity"),
        CheckConstraint("birth_year BETWEEN 1880 AND 2100", name="birth_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    sex: Mapped[str] = mapped_column(String(8))
    birth_year: Mapped[int] = mapped_column(Integer)
    activity: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    clinic: Mapped[Clinic] = relationship()
    sessions: Mapped[list[TreatmentSession]] = relationship(back_populates="patient")


class TreatmentSession(Voidable, Base):
    """One visit at which one or more areas were treated (the CSV's rows grouped by patient and date)."""

    __tablename__ = "treatment_session"
    __table_args__ = (Index(None, "patient_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    injector: Mapped[str | None] = mapped_column(String(100))

    patient: Mapped[Patient] = relationship(back_populates="sessions")
    injections: Mapped[list[Injection]] = relationship(back_populates="session")


class Injection(Voidable, Base):
    """One area treated in a session: product, units (the product's own units), lot, expiry, dilution, points.

    ``clinic_id`` repeats the patient's clinic so that the clinic's ``external_id`` (the CSV's treatment_id) can be
    unique per clinic in the database itself. ``points`` is an optional list of ``{"x", "y", "units"}``.
    """

    __tablename__ = "injection"
    __table_args__ = (
        UniqueConstraint("clinic_id", "external_id"),
        CheckConstraint("units >= 0", name="units"),
        CheckConstraint("dilution_ml IS NULL OR dilution_ml > 0", name="dilution_ml"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("treatment_session.id"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    area: Mapped[str] = mapped_column(String(64))
    product: Mapped[str] = mapped_column(String(64))
    units: Mapped[float] = mapped_column(Float)
    lot: Mapped[str | None] = mapped_column(String(100))
    expiry: Mapped[dt.date | None] = mapped_column(Date)
    dilution_ml: Mapped[float | None] = mapped_column(Float)
    injector: Mapped[str | None] = mapped_column(String(100))
    points: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    session: Mapped[TreatmentSession] = relationship(back_populates="injections")


class Assessment(Voidable, Base):
    """A follow-up severity score of one area: 0-3 at maximal contraction (and optionally at rest).

    One live score per patient, area, date and rater: a voided score does not block its correction.
    """

    __tablename__ = "assessment"
    __table_args__ = (
        Index(
            None,
            "patient_id",
            "area",
            "date",
            "rater",
            unique=True,
            sqlite_where=text("NOT voided"),
            postgresql_where=text("NOT voided"),
        ),
        CheckConstraint("severity BETWEEN 0 AND 3", name="severity"),
        CheckConstraint("severity_rest IS NULL OR severity_rest BETWEEN 0 AND 3", name="severity_rest"),
        CheckConstraint("rater IN ('clinician', 'patient')", name="rater"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    area: Mapped[str] = mapped_column(String(64))
    date: Mapped[dt.date] = mapped_column(Date)
    severity: Mapped[int] = mapped_column(Integer)
    severity_rest: Mapped[int | None] = mapped_column(Integer)
    rater: Mapped[str] = mapped_column(String(16))

    patient: Mapped[Patient] = relationship()


class AdverseEvent(Voidable, Base):
    """An adverse event reported on a date, optionally tied to an area."""

    __tablename__ = "adverse_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    area: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)

    patient: Mapped[Patient] = relationship()


class Note(Voidable, Base):
    """A free-text clinical note."""

    __tablename__ = "note"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)

    patient: Mapped[Patient] = relationship()


class Amendment(Base):
    """The audit trail: one changed column of one row, with the old and new values (JSON) and why and by whom.

    Voiding is recorded as an amendment of the ``voided`` column.
    """

    __tablename__ = "amendment"
    __table_args__ = (
        Index(None, "table_name", "row_id"),
        CheckConstraint("length(reason) > 0", name="reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int] = mapped_column(Integer)
    column_name: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    amended_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    amended_by: Mapped[str] = mapped_column(String(100))


CLINICAL_MODELS: tuple[type[Base], ...] = (Patient, TreatmentSession, Injection, Assessment, AdverseEvent, Note)
"""The tables whose rows are amended and voided, never deleted."""


# --- the clinic web app: users, API tokens, login attempts, bookings and the audit log -------------------------

ROLES = ("admin", "injector", "front_desk")
"""What a user may do: ``admin`` everything (users, audit log), ``injector`` clinical writes, ``front_desk``
demographics and bookings only."""


class User(Base):
    """A person who signs in to the web app or the REST API; belongs to exactly one clinic.

    ``password_hash`` is an argon2 hash (never the password). Users are deactivated, not deleted.
    """

    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint("role IN ('admin', 'injector', 'front_desk')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    clinic: Mapped[Clinic] = relationship()


class ApiToken(Base):
    """A REST API token of a user: only its SHA-256 digest is stored; ``prefix`` (its first characters) lets a
    user recognise it in a list."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(default=False, server_default=false())

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """One sign-in attempt (who tried which user name from where, and whether it succeeded): the login throttle
    counts recent failures per user name and address."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index(None, "username", "ip", "attempted_at"), Index(None, "ip", "attempted_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    succeeded: Mapped[bool] = mapped_column(default=False, server_default=false())


class Appointment(Voidable, Base):
    """A booked visit of a patient (front desk and clinicians book; cancelling voids it)."""

    __tablename__ = "appointment"
    __table_args__ = (Index(None, "patient_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    booked_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    patient: Mapped[Patient] = relationship()


class AuditLog(Base):
    """Every write through the web app or the API: who, when, what, and the row before and after (JSON).

    Append-only: the database itself refuses UPDATE and DELETE on this table (triggers created by migration 0002
    on SQLite and PostgreSQL).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "clinic_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinic.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
