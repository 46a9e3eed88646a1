"""The shipped Alembic migrations: they create every table of the models, exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect
from sqlalchemy.exc import IntegrityError

from wearoff.records import RecordsError
from wearoff.records.db import (
    check_schema,
    current_revision,
    database_url,
    downgrade,
    head_revision,
    make_engine,
    mask_url,
    upgrade,
)
from wearoff.records.models import Assessment, Base, Clinic, Patient

DAY = dt.date(2024, 1, 1)


def test_upgrade_creates_every_table_and_is_idempotent(empty_database_url: str) -> None:
    assert upgrade(empty_database_url) == head_revision()
    assert upgrade(empty_database_url) == head_revision()  # a second run changes nothing
    engine = make_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert tables == set(Base.metadata.tables) | {"alembic_version"}
        check_schema(engine)  # no error: at head
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            inspector = inspect(connection)
            for table in Base.metadata.sorted_tables:
                expected = {c.name for c in table.constraints if c.__class__.__name__ == "CheckConstraint"}
                assert {c["name"] for c in inspector.get_check_constraints(table.name)} == expected, table.name
    finally:
        engine.dispose()


def test_downgrade_drops_everything_and_upgrade_restores(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    downgrade(empty_database_url, "base")
    assert current_revision(empty_database_url) is None
    engine = make_engine(empty_database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        with pytest.raises(RecordsError, match="wearoff db init"):
            check_schema(engine)
    finally:
        engine.dispose()
    upgrade(empty_database_url)
    assert current_revision(empty_database_url) == head_revision()


def test_constraints_are_enforced(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            clinic = connection.execute(insert(Clinic).values(name="c")).inserted_primary_key[0]
            patient = connection.execute(
                insert(Patient).values(
                    clinic_id=clinic, external_id="P1", sex="female", birth_year=1980, activity="low"
                )
            ).inserted_primary_key[0]
        bad = [
            insert(Patient).values(clinic_id=clinic, external_id="P2", sex="f", birth_year=1980, activity="low"),
            insert(Patient).values(clinic_id=clinic, external_id="P1", sex="male", birth_year=1980, activity="low"),
            insert(Assessment).values(patient_id=patient, area="glabellar", date=DAY, severity=4, rater="patient"),
            insert(Assessment).values(patient_id=patient, area="glabellar", date=DAY, severity=1, rater="me"),
            insert(Assessment).values(patient_id=9999, area="glabellar", date=DAY, severity=1, rater="patient"),
        ]
        for statement in bad:
            with pytest.raises(IntegrityError), engine.begin() as connection:
                connection.execute(statement)
    finally:
        engine.dispose()


def test_database_url_from_env_or_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WEAROFF_DATABASE_URL", "postgresql+psycopg://u:secret@h/db")
    assert database_url() == "postgresql+psycopg://u:secret@h/db"
    assert mask_url(database_url()) == "postgresql+psycopg://u:***@h/db"
    monkeypatch.delenv("WEAROFF_DATABASE_URL")
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_data_dir", lambda name: str(tmp_path / "data" / name))
    assert database_url() == f"sqlite:///{tmp_path / 'data' / 'wearoff' / 'wearoff.db'}"
    assert (tmp_path / "data" / "wearoff").is_dir()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
