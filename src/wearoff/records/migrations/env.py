"""Alembic environment of the records schema (run by :func:`wearoff.records.db.upgrade`; no alembic.ini needed).

The database URL is taken from ``config.attributes["url"]`` (set by :func:`wearoff.records.db.alembic_config`),
else from the ``sqlalchemy.url`` option. A caller may pass an open connection in ``config.attributes["connection"]``.
Migrations run in one transaction (SQLite included: :func:`wearoff.records.db.make_engine` makes its DDL
transactional) and in batch mode, so that later ``ALTER`` migrations also work on SQLite.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection

from wearoff.records.db import make_engine
from wearoff.records.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: use wearoff.records.db.alembic_config(url)")
    return url


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,
        transactional_ddl=True,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit the SQL of the migrations instead of running them (``alembic upgrade --sql``)."""
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a live database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
