"""Fixtures of the records tests: every test runs on SQLite and, when WEAROFF_TEST_POSTGRES_URL is set, PostgreSQL.

Each test module gets a fresh database per backend (a SQLite file in a temporary folder; a PostgreSQL database
created for the module and dropped after it); each test starts from empty tables (rows are deleted after it).
Start a throwaway server with ``scripts/start-test-postgres.sh`` and export the URL it prints.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine, delete, func, select

from database_backends import BACKENDS, fresh_database
from wearoff.records.db import make_engine, migrations_folder, upgrade
from wearoff.records.models import Base

PATIENTS = """\
patient_id,sex,birth_year,activity
P001,female,1980,moderate
P002,male,1975,high
P003,female,1992,low
"""
TREATMENTS = """\
treatment_id,patient_id,date,product,area,units,lot,expiry,dilution_ml,injector
T001,P001,2024-01-10,onabotulinumtoxinA,glabellar,20,C1234,2025-06-30,2.5,"Smith, J"
T002,P001,2024-01-10,onabotulinumtoxinA,lateral_canthal,24,C1234,2025-06-30,2.5,"Smith, J"
T003,P001,2024-04-20,onabotulinumtoxinA,glabellar,20,C2001,2025-09-30,2.5,Dr Müller
T004,P002,2024-02-01,abobotulinumtoxinA,glabellar,62.5,,,,
T005,P003,2024-03-05,incobotulinumtoxinA,forehead,12.25,X9,2026-01-31,1.25,Dr Müller
"""
ASSESSMENTS = """\
patient_id,area,date,severity,rater,severity_rest
P001,glabellar,2024-01-10,3,clinician,1
P001,glabellar,2024-02-07,0,clinician,
P001,glabellar,2024-02-07,1,patient,
P001,glabellar,2024-04-20,2,clinician,
P002,glabellar,2024-03-01,1,clinician,
P003,forehead,2024-06-01,2,patient,
"""
GOOD = {"patients.csv": PATIENTS, "treatments.csv": TREATMENTS, "assessments.csv": ASSESSMENTS}
"""A valid folder, written in the exact form `export_folder` writes (so an export reproduces it byte for byte)."""


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (name -> text) into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def read_folder(folder: Path) -> dict[str, str]:
    """The three CSV files of a folder as text."""
    return {name: (folder / name).read_text(encoding="utf-8") for name in GOOD}


def count_rows(engine: Engine) -> dict[str, int]:
    """Rows per records table."""
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def wipe(engine: Engine) -> None:
    """Delete every records row (children first); the schema stays. The append-only audit log refuses deletes
    through its triggers: as the database's owner may, the wipe lifts them for its delete and puts them back."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "audit_log" or connection.scalar(select(func.count()).select_from(table)) == 0:
                connection.execute(delete(table))
            elif connection.dialect.name == "sqlite":
                connection.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
                connection.execute(delete(table))
                connection.exec_driver_sql(_audit_migration().SQLITE_TRIGGERS[1])
            else:
                connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
                connection.execute(delete(table))
                connection.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER USER")


def _audit_migration() -> ModuleType:
    """The migration that creates the audit log's triggers (their statements are reused, not copied)."""
    path = migrations_folder() / "versions" / "0002_web_users_audit.py"
    spec = importlib.util.spec_from_file_location("audit_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, never migrated database for this module (per backend), dropped after it."""
    with fresh_database(request.param, tmp_path_factory.mktemp("records")) as url:
        yield url


@pytest.fixture(scope="module")
def database_url(empty_database_url: str) -> str:
    """This module's database, migrated to the latest schema."""
    upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the module's migrated database; the tables are emptied after the test."""
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        wipe(engine)
        engine.dispose()


@pytest.fixture
def good_folder(tmp_path: Path) -> Path:
    """A valid records folder (see :data:`GOOD`)."""
    return write_folder(tmp_path / "good", GOOD)
