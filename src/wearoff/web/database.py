"""The app's database: one engine per app, one session (one transaction) per request, and where API tokens are
looked up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from wearoff.records.db import is_sqlite, make_engine, session_scope


def engine_of(request: Request) -> Engine:
    """The engine of the app serving ``request``."""
    return request.app.state.engine


@dataclass(frozen=True)
class TokenLookups:
    """Where API tokens are looked up. On an embedded SQLite file the lookup (one indexed row, no network) runs on
    the event loop, where a hop to a worker thread and back costs more than the query, through an engine of its own
    with one connection: the loop is one thread, so it never waits for a connection the request threads hold. On a
    database server a round trip would stall every request of the process: the lookup runs in a worker thread."""

    engine: Engine
    on_loop: bool

    @classmethod
    def for_app(cls, url: str, engine: Engine, *, in_memory: bool) -> TokenLookups:
        if in_memory:  # one shared connection: a second engine would be a second, empty database
            return cls(engine, on_loop=False)
        if is_sqlite(url):
            return cls(make_engine(url, pool_size=1, max_overflow=0), on_loop=True)
        return cls(engine, on_loop=False)


def get_session(request: Request) -> Iterator[Session]:
    """A session in one transaction for the request: committed when the route returns, rolled back if it raises."""
    with session_scope(engine_of(request)) as session:
        yield session
