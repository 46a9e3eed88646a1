"""Where API tokens are looked up: on the event loop only for an SQLite file, through a connection of its own."""

from __future__ import annotations

from pathlib import Path

from wearoff.records.db import make_engine
from wearoff.web.database import TokenLookups


def test_an_sqlite_file_is_looked_up_on_the_loop_through_its_own_single_connection(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    requests = make_engine(url, pool_size=20, max_overflow=20)
    lookups = TokenLookups.for_app(url, requests, in_memory=False)
    assert lookups.on_loop and lookups.engine is not requests
    assert lookups.engine.pool.size() == 1 and lookups.engine.pool._max_overflow == 0  # never waits for a thread


def test_a_database_server_and_an_in_memory_database_are_looked_up_in_worker_threads() -> None:
    server_url = "postgresql+psycopg://user@localhost/clinic"
    server = make_engine(server_url)
    assert TokenLookups.for_app(server_url, server, in_memory=False) == TokenLookups(server, on_loop=False)
    memory = make_engine("sqlite://")
    assert TokenLookups.for_app("sqlite://", memory, in_memory=True) == TokenLookups(memory, on_loop=False)
