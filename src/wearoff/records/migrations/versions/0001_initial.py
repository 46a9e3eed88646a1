"""The records schema: clinics, patients, sessions, injections, assessments, adverse events, notes, amendments.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Hand-checked against wearoff/records/models.py: columns, types, nullability, keys, indexes and the names of every
constraint (models.NAMING_CONVENTION). tests/records/test_migrations.py compares this schema with the models on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _voided() -> sa.Column:
    return sa.Column("voided", sa.Boolean(), server_default=sa.false(), nullable=False)


def upgrade() -> None:
    """Create every records table."""
    op.create_table(
        "clinic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic")),
        sa.UniqueConstraint("name", name=op.f("uq_clinic_name")),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _voided(),
        sa.CheckConstraint("sex IN ('female', 'male')", name=op.f("ck_patient_sex")),
        sa.CheckConstraint("activity IN ('low', 'moderate', 'high')", name=op.f("ck_patient_activity")),
        sa.CheckConstraint("birth_year BETWEEN 1880 AND 2100", name=op.f("ck_patient_birth_year")),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"], name=op.f("fk_patient_clinic_id_clinic")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("clinic_id", "external_id", name=op.f("uq_patient_clinic_id_external_id")),
    )
    op.create_table(
        "treatment_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("injector", sa.String(length=100), nullable=True),
        _voided(),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_treatment_session_patient_id_patient")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_session")),
    )
    op.create_index(op.f("ix_treatment_session_patient_id_date"), "treatment_session", ["patient_id", "date"])
    op.create_table(
        "injection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("units", sa.Float(), nullable=False),
        sa.Column("lot", sa.String(length=100), nullable=True),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("dilution_ml", sa.Float(), nullable=True),
        sa.Column("injector", sa.String(length=100), nullable=True),
        sa.Column("points", sa.JSON(), nullable=True),
        _voided(),
        sa.CheckConstraint("units >= 0", name=op.f("ck_injection_units")),
        sa.CheckConstraint("dilution_ml IS NULL OR dilution_ml > 0", name=op.f("ck_injection_dilution_ml")),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"], name=op.f("fk_injection_clinic_id_clinic")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["treatment_session.id"], name=op.f("fk_injection_session_id_treatment_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_injection")),
        sa.UniqueConstraint("clinic_id", "external_id", name=op.f("uq_injection_clinic_id_external_id")),
    )
    op.create_index(op.f("ix_injection_session_id"), "injection", ["session_id"])
    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("severity_rest", sa.Integer(), nullable=True),
        sa.Column("rater", sa.String(length=16), nullable=False),
        _voided(),
        sa.CheckConstraint("severity BETWEEN 0 AND 3", name=op.f("ck_assessment_severity")),
        sa.CheckConstraint(
            "severity_rest IS NULL OR severity_rest BETWEEN 0 AND 3", name=op.f("ck_assessment_severity_rest")
        ),
        sa.CheckConstraint("rater IN ('clinician', 'patient')", name=op.f("ck_assessment_rater")),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_assessment_patient_id_patient")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
        sa.UniqueConstraint(
            "patient_id", "area", "date", "rater", name=op.f("uq_assessment_patient_id_area_date_rater")
        ),
    )
    op.create_table(
        "adverse_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        _voided(),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_adverse_event_patient_id_patient")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_event")),
    )
    op.create_index(op.f("ix_adverse_event_patient_id"), "adverse_event", ["patient_id"])
    op.create_table(
        "note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _voided(),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], name=op.f("fk_note_patient_id_patient")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note")),
    )
    op.create_index(op.f("ix_note_patient_id"), "note", ["patient_id"])
    op.create_table(
        "amendment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("column_name", sa.String(length=64), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("amended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amended_by", sa.String(length=100), nullable=False),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_amendment_reason")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amendment")),
    )
    op.create_index(op.f("ix_amendment_table_name_row_id"), "amendment", ["table_name", "row_id"])


def downgrade() -> None:
    """Drop every records table (all records are lost)."""
    op.drop_index(op.f("ix_amendment_table_name_row_id"), table_name="amendment")
    op.drop_table("amendment")
    op.drop_index(op.f("ix_note_patient_id"), table_name="note")
    op.drop_table("note")
    op.drop_index(op.f("ix_adverse_event_patient_id"), table_name="adverse_event")
    op.drop_table("adverse_event")
    op.drop_table("assessment")
    op.drop_index(op.f("ix_injection_session_id"), table_name="injection")
    op.drop_table("injection")
    op.drop_index(op.f("ix_treatment_session_patient_id_date"), table_name="treatment_session")
    op.drop_table("treatment_session")
    op.drop_table("patient")
    op.drop_table("clinic")
