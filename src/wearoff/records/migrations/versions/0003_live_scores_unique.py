"""One live score per patient, area, date and rater (a voided score no longer blocks its correction); login
attempts indexed by address.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

The uniqueness of scores becomes a partial unique index over the rows not voided (SQLite and PostgreSQL both have
them), so a score entered in error can be voided and entered again. The login throttle counts failures per address
as well as per user name: the address gets an index of its own. Downgrading restores the table-wide constraint and
fails if a voided score and its correction are both stored (nothing is deleted to make room).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCORE_KEY = ["patient_id", "area", "date", "rater"]
LIVE = sa.text("NOT voided")


def upgrade() -> None:
    with op.batch_alter_table("assessment") as batch:
        batch.drop_constraint(op.f("uq_assessment_patient_id_area_date_rater"), type_="unique")
    op.create_index(
        op.f("ix_assessment_patient_id_area_date_rater"),
        "assessment",
        SCORE_KEY,
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.create_index(op.f("ix_login_attempt_ip_attempted_at"), "login_attempt", ["ip", "attempted_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_attempt_ip_attempted_at"), table_name="login_attempt")
    op.drop_index(op.f("ix_assessment_patient_id_area_date_rater"), table_name="assessment")
    with op.batch_alter_table("assessment") as batch:
        batch.create_unique_constraint(op.f("uq_assessment_patient_id_area_date_rater"), SCORE_KEY)
