"""Fixtures of the web tests: every database test runs on SQLite and, when WEAROFF_TEST_POSTGRES_URL is set, on
PostgreSQL (the backends and throwaway databases of tests/database_backends.py, shared with the records tests).

Each test module gets a fresh migrated database per backend and one app on it. Tests never delete rows (the
audit log refuses it): each module works in clinics of its own (:class:`World`), and tests add patients with
fresh ids.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from database_backends import BACKENDS, fresh_database
from wearoff.records.db import make_engine, session_scope, upgrade
from wearoff.web import WebSettings, create_app
from wearoff.web.services import users

PASSWORD = "correct horse battery"
TODAY = dt.date.today()


def days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


def new_id(prefix: str = "P") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this module (per backend), migrated to the latest schema; dropped after it."""
    with fresh_database(request.param, tmp_path_factory.mktemp("web")) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in of the rendered validation report (rendering the real one takes ~15 s)."""
    folder = tmp_path_factory.mktemp("evidence")
    (folder / "report.html").write_text("<html><body><h1>Validation report</h1></body></html>", encoding="utf-8")
    (folder / "calibration.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return folder


@pytest.fixture(scope="module")
def settings(database_url: str, report_dir: Path) -> WebSettings:
    return WebSettings(database_url=database_url, secret_key="test-secret-key", report_dir=report_dir)


@pytest.fixture(scope="module")
def app(settings: WebSettings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@dataclass
class Member:
    username: str
    role: str
    token: str


@dataclass
class World:
    """Two clinics: ``a`` with an admin, an injector and a front-desk user; ``b`` with an injector and a patient
    (``other_patient``) that clinic ``a`` must never see."""

    clinic: str
    admin: Member
    injector: Member
    desk: Member
    other_clinic: str
    other: Member
    other_patient: str
    database_url: str


def _member(session, clinic: str, role: str) -> Member:
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    user = users.create_user(session, clinic, name, PASSWORD, role, f"Test {role}")
    return Member(name, role, users.issue_token(session, user, "tests").token)


@pytest.fixture(scope="module")
def world(app: FastAPI, database_url: str) -> World:
    """Users with API tokens in two clinics of this module's database, and a patient of the other clinic."""
    clinic, other_clinic = f"Clinic {uuid.uuid4().hex[:6]}", f"Other {uuid.uuid4().hex[:6]}"
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            admin = _member(session, clinic, "admin")
            injector = _member(session, clinic, "injector")
            desk = _member(session, clinic, "front_desk")
            other = _member(session, other_clinic, "injector")
    finally:
        engine.dispose()
    w = World(clinic, admin, injector, desk, other_clinic, other, new_id("B"), database_url)
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/patients",
            json={"patient_id": w.other_patient, "sex": "female", "birth_year": 1980, "activity": "low"},
            headers=auth(other),
        )
        assert response.status_code == 201, response.text
    return w


def auth(member: Member) -> dict[str, str]:
    """The Authorization header of a member's API token."""
    return {"Authorization": f"Bearer {member.token}"}


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    """An API client (no cookies needed)."""
    with TestClient(app) as client:
        yield client


def csrf_of(html: str) -> str:
    """The CSRF token of a rendered page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    """Sign in through the login form (with its CSRF token)."""
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


def add_patient(client: TestClient, member: Member, **fields: object) -> str:
    """Add a patient through the API; its id."""
    body = {"patient_id": new_id(), "sex": "female", "birth_year": 1982, "activity": "moderate", **fields}
    response = client.post("/api/v1/patients", json=body, headers=auth(member))
    assert response.status_code == 201, response.text
    return str(body["patient_id"])


def add_treatment(client: TestClient, member: Member, patient_id: str, **fields: object) -> dict:
    body = {"date": days_ago(40), "product": "onabotulinumtoxinA", "area": "glabellar", "units": 20, **fields}
    response = client.post(f"/api/v1/patients/{patient_id}/treatments", json=body, headers=auth(member))
    assert response.status_code == 201, response.text
    return response.json()


def fresh_member(world: World, role: str) -> Member:
    """A new user of the world's first clinic (for tests that lock a user out)."""
    engine = make_engine(world.database_url)
    try:
        with session_scope(engine) as session:
            return _member(session, world.clinic, role)
    finally:
        engine.dispose()
