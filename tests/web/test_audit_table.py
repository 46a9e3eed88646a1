"""The audit table itself refuses UPDATE and DELETE (database triggers), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from wearoff.records.db import make_engine
from wearoff.records.models import AuditLog, utcnow

from .conftest import World


def test_the_database_refuses_to_change_or_delete_audit_rows(world: World) -> None:
    engine = make_engine(world.database_url)
    try:
        with engine.begin() as connection:
            row_id = connection.execute(
                insert(AuditLog).values(at=utcnow(), username="tester", action="create", entity="probe", after={"a": 1})
            ).inserted_primary_key[0]
        for statement in (
            update(AuditLog).where(AuditLog.id == row_id).values(username="someone else"),
            delete(AuditLog).where(AuditLog.id == row_id),
        ):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.execute(statement)
        with engine.connect() as connection:
            kept = connection.execute(select(AuditLog.username, AuditLog.after).where(AuditLog.id == row_id)).one()
            assert tuple(kept) == ("tester", {"a": 1})
            assert connection.scalar(select(func.count()).select_from(AuditLog)) >= 1
    finally:
        engine.dispose()
