"""The app's database: one engine per app, one session (one transaction) per request."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from wearoff.records.db import session_scope


def engine_of(request: Request) -> Engine:
    """The engine of the app serving ``request``."""
    return request.app.state.engine


def get_session(request: Request) -> Iterator[Session]:
    """A session in one transaction for the request: committed when the route returns, rolled back if it raises."""
    with session_scope(engine_of(request)) as session:
        yield session
