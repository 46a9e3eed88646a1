"""The database seam: where the records live, engines, transactions and schema migrations.

The URL comes from ``WEAROFF_DATABASE_URL`` (any SQLAlchemy URL, e.g. ``postgresql+psycopg://...``) or defaults to
the SQLite file ``wearoff.db`` in the user's data folder. Migrations ship inside the package
(``wearoff/records/migrations``) and run programmatically, so no ``alembic.ini`` is needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from wearoff.records.errors import RecordsError

ENV_URL = "WEAROFF_DATABASE_URL"


def database_url() -> str:
    """The records database URL: ``$WEAROFF_DATABASE_URL`` if set and not blank, else
    ``sqlite:///<user data dir>/wearoff.db`` (the folder is created if missing)."""
    url = os.environ.get(ENV_URL, "").strip()
    if url:
        return url
    import platformdirs

    folder = Path(platformdirs.user_data_dir("wearoff"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'wearoff.db'}"


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe to print or log)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: show no more than its scheme
        return url.split("://", 1)[0] + "://***"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default :func:`database_url`); extra keyword arguments go to ``create_engine``.

    On SQLite every new connection gets ``PRAGMA journal_mode=WAL`` (file databases) and ``PRAGMA
    foreign_keys=ON``, and SQLAlchemy, not the driver, emits ``BEGIN``: transactions (DDL included) and
    savepoints then behave as on PostgreSQL, so a failed import or migration leaves the file as it was.
    """
    url = url or database_url()
    if not is_sqlite(url):
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    engine = create_engine(url, **kwargs)
    in_memory = make_url(url).database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver no longer opens transactions on its own
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed if the block succeeds, rolled back if it raises (any exception,
    KeyboardInterrupt included), closed in both cases. Loaded objects stay readable after the commit."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrations_folder() -> Path:
    """The folder of the Alembic environment shipped in the package."""
    return Path(str(resources.files("wearoff.records") / "migrations"))


def alembic_config(url: str | None = None) -> Any:
    """An ``alembic.config.Config`` for ``url`` (default :func:`database_url`) and the shipped migrations.

    Usable with any ``alembic.command`` function, e.g. to write a new revision while developing::

        from alembic import command
        command.revision(alembic_config("sqlite:///dev.db"), message="add column", autogenerate=True)
    """
    from alembic.config import Config

    url = url or database_url()
    config = Config()
    config.set_main_option("script_location", str(migrations_folder()))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["url"] = url
    return config


def upgrade(url: str | None = None, revision: str = "head") -> str | None:
    """Run ``alembic upgrade`` to ``revision`` (default the latest) on ``url``; return the revision reached.

    Idempotent: a database already at the revision is left untouched. Each migration runs in a transaction.
    """
    from alembic import command

    config = alembic_config(url)
    command.upgrade(config, revision)
    return current_revision(url or database_url())


def downgrade(url: str, revision: str) -> None:
    """Run ``alembic downgrade`` to ``revision`` (``"base"`` drops every records table)."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    """The latest revision shipped in the package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(url_or_engine: str | Engine) -> str | None:
    """The revision the database is at, or ``None`` if it was never migrated."""
    from alembic.migration import MigrationContext

    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()


def check_schema(engine: Engine) -> None:
    """Raise :class:`RecordsError` (saying which command to run) unless the database is at the latest revision."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        tables = set(inspect(engine).get_table_names())
        state = "has no records tables" if not tables else "was not created by wearoff's migrations"
        raise RecordsError(f"the database {where} {state}; run `wearoff db init` first")
    raise RecordsError(f"the database {where} is at schema revision {current}, not {head}; run `wearoff db upgrade`")
