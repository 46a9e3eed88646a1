"""Generated requests (schemathesis, from the app's OpenAPI, authenticated with a token, in process, on SQLite and
PostgreSQL): no route answers any of them with a server error. Positive and negative (schema-violating) cases, a
bounded number per route so the run stays short."""

from __future__ import annotations

from pathlib import Path

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from schemathesis.generation import GenerationMode

from wearoff.records.db import make_engine, session_scope
from wearoff.web import WebSettings, create_app
from wearoff.web.services import users

EXAMPLES = 20
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
"""The keys of an OpenAPI path item that are operations (the others: ``parameters``, ``summary``, ...)."""


@pytest.fixture(scope="module")
def fuzz_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[FastAPI, str]:
    """The app on a fresh database of each backend (SQLite, PostgreSQL), with an admin's token."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        user = users.create_user(session, "Fuzz clinic", "fuzz-admin", "fuzz password 1", "admin")
        token = users.issue_token(session, user, "fuzz").token
    engine.dispose()
    app = create_app(WebSettings(database_url=database_url, secret_key="fuzz", report_dir=folder))
    return app, token


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_no_server_error_on_any_generated_request(fuzz_app: tuple[FastAPI, str], mode: GenerationMode) -> None:
    app, token = fuzz_app
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    seen: list[str] = []
    failures: list[str] = []
    statuses: set[int] = set()
    called: set[str] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        seen.append(operation.label)

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def call(case: object) -> None:
            response = case.call(headers=headers)  # type: ignore[attr-defined]
            statuses.add(response.status_code)
            called.add(case.operation.label)  # type: ignore[attr-defined]
            if response.status_code >= 500:
                failures.append(f"{case.operation.label}: {response.status_code} for {case!r}"[:600])  # type: ignore[attr-defined]

        call()
    paths = app.openapi()["paths"]
    operations = {f"{method.upper()} {path}" for path, item in paths.items() for method in item if method in METHODS}
    assert sorted(seen) == sorted(operations)  # every operation of the API document was tried, each once
    assert called == operations  # and each was sent requests
    assert failures == []
    assert 422 in statuses and (200 in statuses or mode is GenerationMode.NEGATIVE)  # authenticated, and refusing
