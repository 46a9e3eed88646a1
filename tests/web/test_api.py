"""The REST API: every route, with its refusals (401, 403, 404 for another clinic, 422 storing nothing, 429)."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from wearoff.records.db import make_engine, session_scope
from wearoff.records.models import ApiToken, Assessment, AuditLog, Injection, Patient, User
from wearoff.web import security
from wearoff.web.services import users

from .conftest import (
    PASSWORD,
    World,
    add_patient,
    add_treatment,
    auth,
    days_ago,
    fresh_member,
    new_id,
)


def count(world: World, model: type, *where: object) -> int:
    engine = make_engine(world.database_url)
    try:
        with session_scope(engine) as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    finally:
        engine.dispose()


def audit_rows(world: World, entity: str, entity_id: str) -> list[AuditLog]:
    engine = make_engine(world.database_url)
    try:
        with session_scope(engine) as session:
            return list(
                session.scalars(
                    select(AuditLog)
                    .where(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
                    .order_by(AuditLog.id)
                )
            )
    finally:
        engine.dispose()


# --- authentication -------------------------------------------------------------------------------------------


def test_a_token_is_issued_for_good_credentials_and_works(api: TestClient, world: World) -> None:
    response = api.post(
        "/api/v1/auth/token", json={"username": world.injector.username, "password": PASSWORD, "name": "x"}
    )
    assert response.status_code == 201
    token = response.json()["token"]
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json() == {
        "username": world.injector.username,
        "display_name": "Test injector",
        "role": "injector",
        "clinic": world.clinic,
    }


@pytest.mark.parametrize("header", [None, "Bearer wo_not-a-token", "Bearer nonsense", "Basic abc"])
def test_requests_without_a_valid_token_are_refused_with_401(api: TestClient, world: World, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = api.get("/api/v1/patients", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"]


def test_a_revoked_token_and_the_token_of_a_deactivated_user_are_refused(api: TestClient, world: World) -> None:
    revoked, deactivated = fresh_member(world, "injector"), fresh_member(world, "injector")
    engine = make_engine(world.database_url)
    try:
        with session_scope(engine) as session:  # a second token of the same user, which stays valid
            owner = session.scalar(select(User).where(User.username == revoked.username))
            other = auth(replace(revoked, token=users.issue_token(session, owner, "second").token))
        for headers in (auth(revoked), other, auth(deactivated)):
            assert api.get("/api/v1/me", headers=headers).status_code == 200
        with session_scope(engine) as session:
            digest = security.token_digest(revoked.token)
            session.execute(update(ApiToken).where(ApiToken.token_hash == digest).values(revoked=True))
            session.execute(update(User).where(User.username == deactivated.username).values(active=False))
    finally:
        engine.dispose()
    for member in (revoked, deactivated):
        response = api.get("/api/v1/me", headers=auth(member))
        assert response.status_code == 401
        assert "revoked" in response.json()["detail"]
    assert api.get("/api/v1/me", headers=other).status_code == 200  # only the revoked token is refused
    assert api.get("/api/v1/me", headers=auth(world.injector)).status_code == 200


def test_wrong_password_is_401_and_the_sixth_attempt_is_throttled_with_429(api: TestClient, world: World) -> None:
    body = {"username": fresh_member(world, "front_desk").username, "password": "wrong password!", "name": "x"}
    for _ in range(5):
        assert api.post("/api/v1/auth/token", json=body).status_code == 401
    throttled = api.post("/api/v1/auth/token", json={**body, "password": PASSWORD})
    assert throttled.status_code == 429
    assert "too many failed sign-ins" in throttled.json()["detail"]
    assert int(throttled.headers["Retry-After"]) > 0


def test_guessing_many_user_names_from_one_address_is_throttled_too(api: TestClient, world: World) -> None:
    from wearoff.web.services.users import ADDRESS_FAILURE_FACTOR

    per_name = api.app.state.settings.login_failures_allowed
    cap = ADDRESS_FAILURE_FACTOR * per_name
    with TestClient(api.app, client=("203.0.113.7", 40000)) as guesser:
        for i in range(cap + 1):  # fewer failures per name than its own limit
            body = {"username": f"nobody-{i // (per_name - 1)}", "password": "guess", "name": "x"}
            status = guesser.post("/api/v1/auth/token", json=body).status_code
            if status == 429:
                break
            assert status == 401
        assert status == 429 and i == cap
        member = fresh_member(world, "injector")
        refused = guesser.post("/api/v1/auth/token", json={"username": member.username, "password": PASSWORD})
        assert refused.status_code == 429 and "from this address" in refused.json()["detail"]
    other_address = api.post("/api/v1/auth/token", json={"username": member.username, "password": PASSWORD})
    assert other_address.status_code == 201


def test_token_requests_with_bad_bodies_are_422(api: TestClient) -> None:
    assert api.post("/api/v1/auth/token", json={"username": "", "password": "x"}).status_code == 422
    assert api.post("/api/v1/auth/token", json={"password": "x"}).status_code == 422


# --- patients -------------------------------------------------------------------------------------------------


def test_create_get_and_search_patients_with_an_audit_row(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.desk, sex="male", birth_year=1975, activity="high")
    got = api.get(f"/api/v1/patients/{pid}", headers=auth(world.injector))
    assert got.status_code == 200
    assert got.json() == {"patient_id": pid, "sex": "male", "birth_year": 1975, "activity": "high"}
    found = api.get("/api/v1/patients", params={"q": pid[-6:]}, headers=auth(world.desk)).json()
    assert [p["patient_id"] for p in found["items"]] == [pid]
    assert found["items"][0]["treatments"] == 0
    rows = audit_rows(world, "patient", pid)
    assert [(r.action, r.username, r.before) for r in rows] == [("create", world.desk.username, None)]
    assert rows[0].after["sex"] == "male"


def test_patients_of_another_clinic_are_not_found(api: TestClient, world: World) -> None:
    for path in ("", "/treatments", "/assessments", "/forecast", "/appointments"):
        response = api.get(f"/api/v1/patients/{world.other_patient}{path}", headers=auth(world.admin))
        assert response.status_code == 404, path
    listed = api.get("/api/v1/patients", params={"q": world.other_patient}, headers=auth(world.admin)).json()
    assert listed["items"] == []
    body = {"date": days_ago(1), "product": "onabotulinumtoxinA", "area": "glabellar", "units": 20}
    refused = api.post(f"/api/v1/patients/{world.other_patient}/treatments", json=body, headers=auth(world.injector))
    assert refused.status_code == 404
    assert count(world, Injection, Injection.external_id.is_not(None), Injection.area == "glabellar") >= 0


def test_bad_patients_are_422_and_nothing_is_stored(api: TestClient, world: World) -> None:
    pid = new_id()
    bad_year = api.post(
        "/api/v1/patients",
        json={"patient_id": pid, "sex": "female", "birth_year": 1066, "activity": "low"},
        headers=auth(world.admin),
    )
    assert bad_year.status_code == 422
    assert bad_year.json()["detail"][0]["loc"] == ["body", "birth_year"]
    assert "not plausible" in bad_year.json()["detail"][0]["msg"]
    bad_sex = api.post(
        "/api/v1/patients",
        json={"patient_id": pid, "sex": "unknown", "birth_year": 1980},
        headers=auth(world.admin),
    )
    assert bad_sex.status_code == 422
    assert count(world, Patient, Patient.external_id == pid) == 0
    assert audit_rows(world, "patient", pid) == []


def test_an_id_in_use_is_refused(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.admin)
    again = api.post(
        "/api/v1/patients", json={"patient_id": pid, "sex": "female", "birth_year": 1990}, headers=auth(world.admin)
    )
    assert again.status_code == 422
    assert "exists already" in again.json()["detail"][0]["msg"]


def test_correcting_demographics_keeps_before_and_after_in_the_audit_log(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.admin, activity="low")
    response = api.patch(
        f"/api/v1/patients/{pid}", json={"activity": "high", "reason": "asked again"}, headers=auth(world.desk)
    )
    assert response.status_code == 200
    assert response.json()["activity"] == "high"
    amended = audit_rows(world, "patient", pid)[-1]
    assert amended.action == "amend"
    assert amended.before["activity"] == "low"
    assert amended.after["activity"] == "high"
    assert amended.after["reason"] == "asked again"
    no_reason = api.patch(f"/api/v1/patients/{pid}", json={"activity": "low", "reason": ""}, headers=auth(world.desk))
    assert no_reason.status_code == 422
    same = api.patch(f"/api/v1/patients/{pid}", json={"activity": "high", "reason": "x"}, headers=auth(world.desk))
    assert same.status_code == 422


# --- treatments -----------------------------------------------------------------------------------------------


def test_chart_a_treatment_list_it_and_get_the_guards_warnings(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.injector)
    created = add_treatment(
        api,
        world.injector,
        pid,
        lot="C123",
        expiry=days_ago(-300),
        dilution_ml=2.5,
        points=[{"x": 190, "y": 180, "units": 10}, {"x": 210, "y": 180, "units": 10}],
    )
    tid = created["treatment"]["treatment_id"]
    assert created["treatment"]["points"][0] == {"x": 190.0, "y": 180.0, "units": 10.0}
    assert created["treatment"]["injector"] == "Test injector"
    listed = api.get(f"/api/v1/patients/{pid}/treatments", headers=auth(world.injector)).json()
    assert [t["treatment_id"] for t in listed] == [tid]
    booster = {"date": days_ago(30), "product": "onabotulinumtoxinA", "area": "glabellar", "units": 30}
    check = api.post(f"/api/v1/patients/{pid}/treatments/check", json=booster, headers=auth(world.injector))
    assert check.status_code == 200
    assert {w["code"] for w in check.json()["warnings"]} == {"booster", "above_label"}
    assert check.json()["rebook_from"] is not None
    assert (
        len(api.get(f"/api/v1/patients/{pid}/treatments", headers=auth(world.injector)).json()) == 1
    )  # check stores nothing
    saved = api.post(f"/api/v1/patients/{pid}/treatments", json=booster, headers=auth(world.injector))
    assert saved.status_code == 201
    assert {w["code"] for w in saved.json()["warnings"]} == {"booster", "above_label"}
    row = audit_rows(world, "treatment", tid)[0]
    assert row.after["units"] == 20 and row.after["patient_id"] == pid and row.before is None


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"date": days_ago(-3)}, "date", "in the future"),
        ({"units": 900}, "units", "onabotulinumtoxinA-equivalent"),
        ({"product": "Botox"}, "product", "'onabotulinumtoxinA'"),
        ({"area": "glabelar"}, "area", "did you mean 'glabellar'"),
        ({"dilution_ml": -1}, "dilution_ml", "outside"),
        ({"expiry": days_ago(100)}, "expiry", "expired"),
    ],
)
def test_bad_treatments_are_422_naming_the_field_and_store_nothing(
    api: TestClient, world: World, change: dict, field: str, words: str
) -> None:
    pid = add_patient(api, world.injector)
    body = {"date": days_ago(10), "product": "onabotulinumtoxinA", "area": "glabellar", "units": 20, **change}
    response = api.post(f"/api/v1/patients/{pid}/treatments", json=body, headers=auth(world.injector))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(d["loc"][-1] == field and words in d["msg"] for d in detail), detail
    assert api.get(f"/api/v1/patients/{pid}/treatments", headers=auth(world.injector)).json() == []


def test_front_desk_may_not_see_or_chart_treatments_or_scores(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.desk)
    body = {"date": days_ago(1), "product": "onabotulinumtoxinA", "area": "glabellar", "units": 20}
    for method, path, payload in [
        ("get", "/treatments", None),
        ("post", "/treatments", body),
        ("post", "/treatments/check", body),
        ("get", "/assessments", None),
        ("post", "/assessments", {"area": "glabellar", "date": days_ago(1), "severity": 2}),
        ("get", "/forecast", None),
    ]:
        response = api.request(method, f"/api/v1/patients/{pid}{path}", json=payload, headers=auth(world.desk))
        assert response.status_code == 403, path
        assert "front desk" in response.json()["detail"].lower()
    assert api.get("/api/v1/analytics", headers=auth(world.desk)).status_code == 403


def test_a_treatment_entered_in_error_is_voided_with_its_reason_and_kept(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.injector)
    tid = add_treatment(api, world.injector, pid, date=days_ago(40))["treatment"]["treatment_id"]
    path = f"/api/v1/patients/{pid}/treatments/{tid}/void"
    assert api.post(path, json={"reason": "   "}, headers=auth(world.injector)).status_code == 422
    assert api.post(path, json={"reason": "wrong patient"}, headers=auth(world.desk)).status_code == 403
    assert len(api.get(f"/api/v1/patients/{pid}/treatments", headers=auth(world.injector)).json()) == 1
    voided = api.post(path, json={"reason": "charted on the wrong patient"}, headers=auth(world.injector))
    assert voided.status_code == 200 and voided.json()["treatment_id"] == tid
    assert api.get(f"/api/v1/patients/{pid}/treatments", headers=auth(world.injector)).json() == []
    assert api.get(f"/api/v1/patients/{pid}/forecast", headers=auth(world.injector)).json()["areas"] == []
    assert count(world, Injection, Injection.external_id == tid, Injection.voided.is_(True)) == 1  # kept
    row = audit_rows(world, "treatment", tid)[-1]
    assert row.action == "void" and row.after == {"reason": "charted on the wrong patient"}
    assert row.before["units"] == 20
    again = api.post(path, json={"reason": "twice"}, headers=auth(world.injector))
    assert again.status_code == 404  # no live treatment of that id any more
    other = f"/api/v1/patients/{world.other_patient}/treatments/{tid}/void"
    assert api.post(other, json={"reason": "x"}, headers=auth(world.injector)).status_code == 404


# --- assessments and forecasts --------------------------------------------------------------------------------


def test_scores_are_recorded_listed_and_move_the_forecast(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.injector)
    add_treatment(api, world.injector, pid, date=days_ago(60))
    before = api.get(f"/api/v1/patients/{pid}/forecast", headers=auth(world.injector)).json()
    response = api.post(
        f"/api/v1/patients/{pid}/assessments",
        json={"area": "glabellar", "date": days_ago(1), "severity": 3},
        headers=auth(world.injector),
    )
    assert response.status_code == 201
    assert response.json()["rater"] == "clinician"
    listed = api.get(f"/api/v1/patients/{pid}/assessments", headers=auth(world.injector)).json()
    assert [(a["severity"], a["area"]) for a in listed] == [(3, "glabellar")]
    after = api.get(f"/api/v1/patients/{pid}/forecast", headers=auth(world.injector)).json()
    old, new = before["areas"][0]["forecast"]["wear_off_day"], after["areas"][0]["forecast"]["wear_off_day"]
    assert new["median"] < old["median"]  # back at baseline by day 59: it wore off sooner than expected
    assert after["areas"][0]["scores"][0]["day"] == 59


def test_a_score_entered_in_error_is_voided_and_leaves_the_forecast(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.injector)
    add_treatment(api, world.injector, pid, date=days_ago(60))
    base = f"/api/v1/patients/{pid}/assessments"
    before = api.get(f"/api/v1/patients/{pid}/forecast", headers=auth(world.injector)).json()["areas"][0]
    score = {"area": "glabellar", "date": days_ago(5), "severity": 3}
    assert api.post(base, json=score, headers=auth(world.injector)).status_code == 201
    moved = api.get(f"/api/v1/patients/{pid}/forecast", headers=auth(world.injector)).json()["areas"][0]
    assert moved["forecast"]["wear_off_day"] != before["forecast"]["wear_off_day"]
    target = {"area": "glabellar", "date": days_ago(5), "rater": "clinician"}
    assert api.post(f"{base}/void", json={**target, "reason": ""}, headers=auth(world.injector)).status_code == 422
    assert api.post(f"{base}/void", json={**target, "reason": "x"}, headers=auth(world.desk)).status_code == 403
    wrong_day = {**target, "date": days_ago(6), "reason": "typo"}
    assert api.post(f"{base}/void", json=wrong_day, headers=auth(world.injector)).status_code == 404
    voided = api.post(f"{base}/void", json={**target, "reason": "scored the wrong area"}, headers=auth(world.injector))
    assert voided.status_code == 200 and voided.json()["severity"] == 3
    assert api.get(base, headers=auth(world.injector)).json() == []
    back = api.get(f"/api/v1/patients/{pid}/forecast", headers=auth(world.injector)).json()["areas"][0]
    assert back["forecast"]["wear_off_day"] == before["forecast"]["wear_off_day"]
    assert count(world, Assessment, Assessment.voided.is_(True), Assessment.severity == 3) >= 1  # kept
    row = audit_rows(world, "assessment", f"{pid}/glabellar/{days_ago(5)}/clinician")[-1]
    assert row.action == "void" and row.before["severity"] == 3


def test_a_voided_score_can_be_entered_again_corrected(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.injector)
    add_treatment(api, world.injector, pid, date=days_ago(60))
    base = f"/api/v1/patients/{pid}/assessments"
    score = {"area": "glabellar", "date": days_ago(4), "severity": 3}
    assert api.post(base, json=score, headers=auth(world.injector)).status_code == 201
    target = {"area": "glabellar", "date": days_ago(4), "rater": "clinician", "reason": "meant severity 1"}
    assert api.post(f"{base}/void", json=target, headers=auth(world.injector)).status_code == 200
    corrected = api.post(base, json={**score, "severity": 1}, headers=auth(world.injector))
    assert corrected.status_code == 201, corrected.text
    assert [a["severity"] for a in api.get(base, headers=auth(world.injector)).json()] == [1]
    row = audit_rows(world, "assessment", f"{pid}/glabellar/{days_ago(4)}/clinician")[-2]
    assert row.action == "void" and row.before["severity"] == 3
    day = dt.date.fromisoformat(days_ago(4))
    kept = (Assessment.voided.is_(True), Assessment.severity == 3, Assessment.date == day)
    assert count(world, Assessment, *kept) == 1  # the error is kept, voided
    # a second live score of the same day and rater is still refused
    assert api.post(base, json={**score, "severity": 2}, headers=auth(world.injector)).status_code == 422


def test_bad_scores_are_422_and_nothing_is_stored(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.injector)
    for body in (
        {"area": "glabellar", "date": days_ago(1), "severity": 5},
        {"area": "chin", "date": days_ago(1), "severity": 1},
        {"area": "glabellar", "date": days_ago(-2), "severity": 1},
    ):
        response = api.post(f"/api/v1/patients/{pid}/assessments", json=body, headers=auth(world.injector))
        assert response.status_code == 422, body
    assert api.get(f"/api/v1/patients/{pid}/assessments", headers=auth(world.injector)).json() == []
    pk = count(world, Assessment, Assessment.area == "chin")
    assert pk == 0


def test_the_patient_forecast_has_curve_window_flags_reasons_and_advice(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.injector, sex="male", activity="high")
    add_treatment(api, world.injector, pid, units=20, date=days_ago(20))
    data = api.get(
        f"/api/v1/patients/{pid}/forecast", params={"as_of": days_ago(0)}, headers=auth(world.injector)
    ).json()
    (area,) = data["areas"]
    f = area["forecast"]
    assert f["wear_off_day"]["lower90"] < f["wear_off_day"]["median"] < f["wear_off_day"]["upper90"]
    curve = f["curve"]
    assert len(curve["days"]) == len(curve["median"]) == len(curve["lower90"]) == len(curve["upper90"]) > 50
    assert area["window"]["opens"] <= area["window"]["closes"]
    assert {e["factor"] for e in area["effects"]} >= {"sex", "activity"}
    assert any(e["weak"] for e in area["effects"])
    assert area["advice"]


def test_an_adhoc_forecast_and_its_refusals(api: TestClient, world: World) -> None:
    body = {"product": "onabotulinumtoxinA", "area": "glabellar", "units": 20, "sex": "female", "prior_treatments": 2}
    response = api.post("/api/v1/forecast", json=body, headers=auth(world.desk))
    assert response.status_code == 200
    w = response.json()["wear_off_day"]
    assert 40 < w["median"] < 200 and w["lower90"] < w["median"] < w["upper90"]
    assert api.post("/api/v1/forecast", json={**body, "product": "botox"}, headers=auth(world.desk)).status_code == 422
    assert api.post("/api/v1/forecast", json={**body, "units": -3}, headers=auth(world.desk)).status_code == 422
    assert api.post("/api/v1/forecast", json=body).status_code == 401


def test_the_due_list_shows_open_windows_to_the_front_desk(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.injector)
    add_treatment(api, world.injector, pid, date=days_ago(100))
    due = api.get("/api/v1/due", params={"within": 60}, headers=auth(world.desk))
    assert due.status_code == 200
    mine = [e for e in due.json() if e["patient_id"] == pid]
    assert len(mine) == 1 and mine[0]["status"] in ("open", "soon", "overdue")
    assert api.get("/api/v1/due", params={"within": -1}, headers=auth(world.desk)).status_code == 422


def test_the_clinic_cache_keeps_one_value_a_view_whatever_dates_are_asked(api: TestClient, world: World) -> None:
    from wearoff.web.services import clinic_cache

    for day in (1, 2, 3):
        due = api.get("/api/v1/due", params={"as_of": days_ago(day)}, headers=auth(world.desk))
        assert due.status_code == 200
    clinics = list(clinic_cache._clinics.values())
    assert clinics and all(set(c.views) <= {"forecasts", "alerts", "durations"} for c in clinics)
    assert any(c.views.get("forecasts", (None,))[0] == dt.date.fromisoformat(days_ago(3)) for c in clinics)


# --- appointments, analytics, catalog -------------------------------------------------------------------------


def test_bookings_by_the_front_desk(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.desk)
    booked = api.post(
        f"/api/v1/patients/{pid}/appointments",
        json={"date": days_ago(-14), "note": "glabellar"},
        headers=auth(world.desk),
    )
    assert booked.status_code == 201
    listed = api.get(f"/api/v1/patients/{pid}/appointments", headers=auth(world.desk)).json()
    assert [(a["date"], a["note"]) for a in listed] == [(days_ago(-14), "glabellar")]
    past = api.post(f"/api/v1/patients/{pid}/appointments", json={"date": days_ago(3)}, headers=auth(world.desk))
    assert past.status_code == 422
    assert len(api.get(f"/api/v1/patients/{pid}/appointments", headers=auth(world.desk)).json()) == 1


def test_analytics_counts_observed_wear_off(api: TestClient, world: World) -> None:
    # an area no other test of the clinic treats: its row holds this patient's treatment alone
    pid = add_patient(api, world.injector)
    add_treatment(api, world.injector, pid, date=days_ago(200), area="mentalis", units=4)
    for day, grade in ((200, 3), (186, 0), (120, 1), (80, 3)):
        api.post(
            f"/api/v1/patients/{pid}/assessments",
            json={"area": "mentalis", "date": days_ago(day), "severity": grade},
            headers=auth(world.injector),
        )
    data = api.get("/api/v1/analytics", headers=auth(world.injector)).json()
    mentalis = next(r for r in data["by_area"] if r["group"] == "mentalis")
    assert mentalis["observed"] >= 1 and mentalis["treatments"] >= mentalis["observed"]
    assert mentalis["median_days"] is not None and 80 <= mentalis["median_days"] <= 200


def test_the_catalog_lists_products_and_areas(api: TestClient, world: World) -> None:
    data = api.get("/api/v1/catalog", headers=auth(world.desk)).json()
    assert "onabotulinumtoxinA" in {p["code"] for p in data["products"]}
    assert "glabellar" in {a["code"] for a in data["areas"]}


# --- exchange -------------------------------------------------------------------------------------------------


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_csv_export_and_import_as_a_zip(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.injector)
    add_treatment(api, world.injector, pid)
    exported = api.get("/api/v1/exchange/csv", headers=auth(world.injector))
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        assert pid in archive.read("patients.csv").decode()
    new = new_id()
    files = {
        "patients.csv": f"patient_id,sex,birth_year,activity\n{new},female,1985,low\n",
        "treatments.csv": "treatment_id,patient_id,date,product,area,units\n"
        f"{new}-T1,{new},{days_ago(30)},onabotulinumtoxinA,glabellar,20\n",
        "assessments.csv": "patient_id,area,date,severity,rater\n",
    }
    imported = api.post(
        "/api/v1/exchange/csv",
        files={"files": ("records.zip", _zip(files), "application/zip")},
        headers=auth(world.admin),
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["patients_added"] == 1 and imported.json()["treatments_added"] == 1
    assert api.get(f"/api/v1/patients/{new}", headers=auth(world.admin)).status_code == 200
    assert audit_rows(world, "records", world.clinic)[-1].after["patients_added"] == 1


def test_a_bad_csv_import_names_every_bad_row_and_stores_nothing(api: TestClient, world: World) -> None:
    new = new_id()
    files = [
        ("files", ("patients.csv", f"patient_id,sex,birth_year,activity\n{new},female,1985,sometimes\n", "text/csv")),
        (
            "files",
            (
                "treatments.csv",
                f"treatment_id,patient_id,date,product,area,units\nX1,{new},2020-13-01,ona,glabellar,20\n",
                "text/csv",
            ),
        ),
    ]
    response = api.post("/api/v1/exchange/csv", files=files, headers=auth(world.admin))
    assert response.status_code == 422
    messages = " ".join(d["msg"] for d in response.json()["detail"])
    assert "patients.csv:2: activity" in messages and "treatments.csv:2: date" in messages
    assert api.get(f"/api/v1/patients/{new}", headers=auth(world.admin)).status_code == 404
    assert (
        api.post(
            "/api/v1/exchange/csv",
            files={"files": ("x.zip", b"not a zip", "application/zip")},
            headers=auth(world.admin),
        ).status_code
        == 422
    )
    assert api.post("/api/v1/exchange/csv", files=files, headers=auth(world.injector)).status_code == 403


def test_fhir_export_and_import(api: TestClient, world: World) -> None:
    pid = add_patient(api, world.injector)
    add_treatment(api, world.injector, pid)
    exported = api.get("/api/v1/exchange/fhir", headers=auth(world.injector))
    assert exported.status_code == 200
    bundle = exported.json()
    assert bundle["resourceType"] == "Bundle"
    again = api.post(
        "/api/v1/exchange/fhir",
        files={"file": ("bundle.json", json.dumps(bundle).encode(), "application/json")},
        headers=auth(world.admin),
    )
    assert again.status_code == 200
    assert again.json()["patients_added"] == 0 and again.json()["patients_unchanged"] >= 1
    broken = api.post(
        "/api/v1/exchange/fhir", files={"file": ("b.json", b"{not json", "application/json")}, headers=auth(world.admin)
    )
    assert broken.status_code == 422 and "not JSON" in broken.json()["detail"][0]["msg"]


# --- audit ----------------------------------------------------------------------------------------------------


def test_admins_read_the_audit_log_and_nobody_can_change_it(api: TestClient, world: World) -> None:
    add_patient(api, world.admin)
    log = api.get("/api/v1/audit", params={"limit": 5}, headers=auth(world.admin))
    assert log.status_code == 200
    assert log.json()["total"] >= 1 and log.json()["items"][0]["entity"] == "patient"
    assert api.get("/api/v1/audit", headers=auth(world.injector)).status_code == 403
    for method in ("put", "patch", "delete"):
        assert api.request(method, "/api/v1/audit", headers=auth(world.admin)).status_code == 405
        assert api.request(method, "/api/v1/audit/1", headers=auth(world.admin)).status_code == 404
