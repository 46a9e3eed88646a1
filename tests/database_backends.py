"""The databases the records and web tests run on: SQLite always, PostgreSQL when ``WEAROFF_TEST_POSTGRES_URL``
names a server. ``make test`` (and so CI) starts one with ``scripts/start-test-postgres.sh`` and runs strictly, so
there the PostgreSQL tests never skip: a missing server fails them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

PG_ENV = "WEAROFF_TEST_POSTGRES_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(
            not os.environ.get(PG_ENV),
            reason=f"PostgreSQL backend not configured: set {PG_ENV} (scripts/start-test-postgres.sh starts a "
            "server and prints it; make test does both)",
        ),
    ),
]


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file in ``folder``, or a PostgreSQL database created on the
    server of :data:`PG_ENV` and dropped on exit, however the ``with`` block ends."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'wearoff.db'}"
        return
    base = make_url(os.environ[PG_ENV])
    name = f"wearoff_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:  # also when the caller's set-up (a migration, say) or its tests fail
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
