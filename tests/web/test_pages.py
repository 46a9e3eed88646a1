"""The pages: sign-in, throttling, cookies, CSRF on every form (HTMX included), roles, clinics, forms that say
what was wrong and store nothing, the follow-up link, the summary, evidence, analytics and the audit log."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from .conftest import (
    PASSWORD,
    World,
    add_patient,
    add_treatment,
    auth,
    csrf_of,
    days_ago,
    fresh_member,
    login,
    new_id,
)


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A cookie-keeping client, not signed in."""
    with TestClient(app) as client:
        yield client


def signed_in(client: TestClient, username: str) -> str:
    """Sign in and return the session's CSRF token."""
    assert login(client, username).status_code == 303
    return csrf_of(client.get("/").text)


def test_pages_send_strangers_to_the_login_page(browser: TestClient, world: World) -> None:
    for path in ("/", "/patients", f"/patients/{world.other_patient}", "/analytics", "/audit", "/evidence"):
        response = browser.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/login?next={path}"
    htmx = browser.get("/dashboard/due", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")


def test_sign_in_sets_a_safe_session_cookie_and_sign_out_ends_it(browser: TestClient, world: World) -> None:
    response = login(browser, world.injector.username)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    page = browser.get("/")
    assert page.status_code == 200 and "Due for re-treatment" in page.text
    assert "Decision support for qualified professionals" in page.text
    browser.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_secure_cookies_can_be_required(world: World, settings) -> None:
    from dataclasses import replace

    from wearoff.web import create_app

    secure_app = create_app(replace(settings, secure_cookies=True))
    with TestClient(secure_app, base_url="https://testserver") as client:
        response = login(client, world.injector.username)
        assert "secure" in response.headers["set-cookie"].lower()
    secure_app.state.engine.dispose()


def test_wrong_passwords_are_refused_then_throttled_with_a_clear_message(browser: TestClient, world: World) -> None:
    member = fresh_member(world, "admin")
    wrong = login(browser, member.username, "not the password")
    assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
    for _ in range(4):
        login(browser, member.username, "not the password")
    throttled = login(browser, member.username, PASSWORD)
    assert throttled.status_code == 429
    assert "too many failed sign-ins" in throttled.text and "Try again in about 15 minutes" in throttled.text


def test_every_form_needs_the_csrf_token(browser: TestClient, world: World) -> None:
    token = signed_in(browser, world.injector.username)
    pid = add_patient(browser, world.injector)
    treatment = {"area": "glabellar", "units": "20", "product": "onabotulinumtoxinA", "date": days_ago(1)}
    posts = [
        ("/patients/new", {"patient_id": new_id(), "sex": "female", "birth_year": "1980", "activity": "low"}),
        (f"/patients/{pid}/chart", treatment),
        (f"/patients/{pid}/chart/preview", treatment),
        (f"/patients/{pid}/scores", {"area": "glabellar", "date": days_ago(1), "severity": "1"}),
        (f"/patients/{pid}/appointments", {"date": days_ago(-5)}),
        (f"/patients/{pid}/followup-link", {}),
        ("/account/tokens", {"name": "x"}),
        ("/logout", {}),
    ]
    for path, data in posts:
        missing = browser.post(path, data=data, follow_redirects=False)
        assert missing.status_code == 403, path
        wrong = browser.post(path, data={**data, "csrf_token": "forged"}, follow_redirects=False)
        assert wrong.status_code == 403, path
        htmx_wrong = browser.post(path, data=data, headers={"HX-Request": "true", "X-CSRF-Token": "forged"})
        assert htmx_wrong.status_code == 403, path
    assert browser.get(f"/patients/{pid}/treatments", follow_redirects=False).status_code in (404, 405)
    preview = browser.post(
        f"/patients/{pid}/chart/preview", data=treatment, headers={"HX-Request": "true", "X-CSRF-Token": token}
    )
    assert preview.status_code == 200 and "Re-book between" in preview.text
    assert add_treatment is not None


def test_charting_through_the_form_previews_warnings_then_saves(
    browser: TestClient, world: World, api: TestClient
) -> None:
    token = signed_in(browser, world.injector.username)
    pid = add_patient(api, world.injector)
    add_treatment(api, world.injector, pid, date=days_ago(10))
    form = {
        "csrf_token": token,
        "area": "glabellar",
        "units": "20",
        "product": "onabotulinumtoxinA",
        "date": days_ago(0),
        "lot": "L1",
        "expiry": days_ago(-200),
        "dilution_ml": "2.5",
        "injector": "Dr Test",
        "points": '[{"x": 200, "y": 184, "units": 20}]',
    }
    assert "Chart a treatment" in browser.get(f"/patients/{pid}/chart").text
    preview = browser.post(f"/patients/{pid}/chart/preview", data=form, headers={"HX-Request": "true"})
    assert "Booster" in preview.text
    saved = browser.post(f"/patients/{pid}/chart", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/patients/{pid}#area-glabellar"
    page = browser.get(f"/patients/{pid}")
    assert "with 1 warning" in page.text and "L1" in page.text
    listed = api.get(f"/api/v1/patients/{pid}/treatments", headers=auth(world.injector)).json()
    assert listed[0]["points"] == [{"x": 200.0, "y": 184.0, "units": 20.0}]


def test_a_bad_chart_form_says_what_is_wrong_next_to_the_field_and_stores_nothing(
    browser: TestClient, world: World, api: TestClient
) -> None:
    token = signed_in(browser, world.injector.username)
    pid = add_patient(api, world.injector)
    form = {
        "csrf_token": token,
        "area": "glabellar",
        "units": "lots",
        "product": "onabotulinumtoxinA",
        "date": "27/11/2026",
    }
    response = browser.post(f"/patients/{pid}/chart", data=form)
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "data-field=\"units\">units 'lots' is not a number" in text
    assert "data-field=\"date\">date '27/11/2026' is not a date written YYYY-MM-DD" in text
    assert 'value="lots"' in response.text  # the form keeps what was typed
    assert api.get(f"/api/v1/patients/{pid}/treatments", headers=auth(world.injector)).json() == []


def test_the_patient_form_rerenders_with_errors(browser: TestClient, world: World, api: TestClient) -> None:
    token = signed_in(browser, world.desk.username)
    pid = new_id()
    bad = {"csrf_token": token, "patient_id": pid, "sex": "female", "birth_year": "19x0", "activity": "low"}
    response = browser.post("/patients/new", data=bad)
    assert response.status_code == 422 and "is not a whole number" in response.text
    assert api.get(f"/api/v1/patients/{pid}", headers=auth(world.desk)).status_code == 404
    good = browser.post("/patients/new", data={**bad, "birth_year": "1980"}, follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"] == f"/patients/{pid}"


def test_front_desk_sees_demographics_windows_and_books_but_charts_nothing(
    browser: TestClient, world: World, api: TestClient
) -> None:
    token = signed_in(browser, world.desk.username)
    pid = add_patient(api, world.injector)
    add_treatment(api, world.injector, pid, date=days_ago(80))
    page = browser.get(f"/patients/{pid}")
    assert page.status_code == 200 and "Re-booking windows" in page.text and "Why this forecast" not in page.text
    assert browser.get(f"/patients/{pid}/chart").status_code == 403
    data = {
        "csrf_token": token,
        "area": "glabellar",
        "units": "20",
        "product": "onabotulinumtoxinA",
        "date": days_ago(0),
    }
    assert browser.post(f"/patients/{pid}/chart", data=data).status_code == 403
    score = {"csrf_token": token, "area": "glabellar", "date": days_ago(0), "severity": "2"}
    assert browser.post(f"/patients/{pid}/scores", data=score).status_code == 403
    assert browser.get(f"/patients/{pid}/summary").status_code == 403
    assert browser.get("/analytics").status_code == 403
    assert browser.get("/audit").status_code == 403
    booked = browser.post(
        f"/patients/{pid}/appointments", data={"csrf_token": token, "date": days_ago(-7)}, follow_redirects=False
    )
    assert booked.status_code == 303
    assert len(api.get(f"/api/v1/patients/{pid}/treatments", headers=auth(world.injector)).json()) == 1


def test_another_clinics_patient_is_not_found_on_any_page(browser: TestClient, world: World) -> None:
    token = signed_in(browser, world.admin.username)
    for path in ("", "/chart", "/summary"):
        assert browser.get(f"/patients/{world.other_patient}{path}").status_code == 404, path
    score = {"csrf_token": token, "area": "glabellar", "date": days_ago(0), "severity": "2"}
    assert browser.post(f"/patients/{world.other_patient}/scores", data=score).status_code == 404
    assert world.other_patient not in browser.get("/patients", params={"q": world.other_patient[:3]}).text


def test_clinician_scores_and_the_patients_own_follow_up_link(
    browser: TestClient, world: World, api: TestClient
) -> None:
    token = signed_in(browser, world.injector.username)
    pid = add_patient(api, world.injector)
    add_treatment(api, world.injector, pid, date=days_ago(30))
    bad = browser.post(f"/patients/{pid}/scores", data={"csrf_token": token, "area": "glabellar", "date": days_ago(0)})
    assert bad.status_code == 422 and "severity is missing" in bad.text
    ok = browser.post(
        f"/patients/{pid}/scores",
        data={"csrf_token": token, "area": "glabellar", "date": days_ago(2), "severity": "0"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    link = browser.post(f"/patients/{pid}/followup-link", headers={"HX-Request": "true", "X-CSRF-Token": token})
    url = re.search(r'value="(http[^"]+/f/[^"]+)"', link.text).group(1)
    path = url.split("testserver", 1)[1]
    with TestClient(browser.app) as patient:
        form = patient.get(path)
        assert form.status_code == 200 and "Glabellar (frown) lines" in form.text and "a deep line" in form.text
        patient_token = csrf_of(form.text)
        assert patient.post(path, data={"score_glabellar": "1"}).status_code == 403
        empty = patient.post(path, data={"csrf_token": patient_token})
        assert empty.status_code == 422 and "choose a score" in empty.text
        done = patient.post(path, data={"csrf_token": patient_token, "score_glabellar": "1"})
        assert done.status_code == 200 and "Thank you" in done.text
        assert patient.get(path[:-3] + "xyz").status_code == 404
        assert patient.get("/f/nonsense").status_code == 404
    scores = api.get(f"/api/v1/patients/{pid}/assessments", headers=auth(world.injector)).json()
    assert [(s["rater"], s["severity"]) for s in scores] == [("patient", 1), ("clinician", 0)]


def test_summary_analytics_evidence_audit_and_account_pages(browser: TestClient, world: World, api: TestClient) -> None:
    token = signed_in(browser, world.admin.username)
    pid = add_patient(api, world.admin)
    add_treatment(api, world.admin, pid, date=days_ago(50))
    summary = browser.get(f"/patients/{pid}/summary")
    assert (
        summary.status_code == 200
        and "Your treatment summary" in summary.text
        and "A good time for your next visit" in summary.text
    )
    assert "print.css" in summary.text
    assert "How long it lasts here" in browser.get("/analytics").text
    evidence = browser.get("/evidence")
    assert 'src="/evidence/report/report.html"' in evidence.text
    assert "Validation report" in browser.get("/evidence/report/report.html").text
    assert browser.get("/evidence/report/..%2Fsecret.html").status_code == 404
    assert browser.get("/evidence/report/missing.png").status_code == 404
    audit = browser.get("/audit")
    assert audit.status_code == 200 and pid in audit.text
    issued = browser.post("/account/tokens", data={"csrf_token": token, "name": "script"})
    new_token = re.search(r'id="new-token">([^<]+)<', issued.text).group(1)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {new_token}"}).status_code == 200
    users_page = browser.get("/users")
    assert users_page.status_code == 200 and world.desk.username in users_page.text
    short = browser.post(
        "/users", data={"csrf_token": token, "username": "nurse-x", "password": "short", "role": "injector"}
    )
    assert short.status_code == 422 and "at least 10 characters" in short.text


def test_security_headers(browser: TestClient, world: World) -> None:
    response = browser.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_treatment_is_voided_from_the_patient_page_with_a_reason(
    browser: TestClient, world: World, api: TestClient
) -> None:
    token = signed_in(browser, world.injector.username)
    pid = add_patient(api, world.injector)
    tid = add_treatment(api, world.injector, pid, date=days_ago(30))["treatment"]["treatment_id"]
    page = browser.get(f"/patients/{pid}")
    assert f"/treatments/{tid}/void" in page.text
    path = f"/patients/{pid}/treatments/{tid}/void"
    assert browser.post(path, data={"reason": "typo"}, follow_redirects=False).status_code == 403  # no CSRF token
    refused = browser.post(path, data={"csrf_token": token, "reason": " "})
    assert "Not voided" in refused.text and "say why" in refused.text
    assert len(api.get(f"/api/v1/patients/{pid}/treatments", headers=auth(world.injector)).json()) == 1
    done = browser.post(path, data={"csrf_token": token, "reason": "charted twice"})
    assert "voided; it is kept with the reason" in done.text
    assert api.get(f"/api/v1/patients/{pid}/treatments", headers=auth(world.injector)).json() == []
    again = browser.post(path, data={"csrf_token": token, "reason": "charted twice"})  # a second click
    assert again.status_code == 200 and "Not voided" in again.text and "voided already" in again.text


def test_a_score_is_voided_from_the_patient_page(browser: TestClient, world: World, api: TestClient) -> None:
    token = signed_in(browser, world.injector.username)
    pid = add_patient(api, world.injector)
    add_treatment(api, world.injector, pid, date=days_ago(30))
    score = {"area": "glabellar", "date": days_ago(3), "severity": 2}
    assert api.post(f"/api/v1/patients/{pid}/assessments", json=score, headers=auth(world.injector)).status_code == 201
    assert f"/patients/{pid}/scores/void" in browser.get(f"/patients/{pid}").text
    form = {"csrf_token": token, "area": "glabellar", "date": days_ago(3), "rater": "clinician"}
    refused = browser.post(f"/patients/{pid}/scores/void", data={**form, "reason": ""})
    assert "Not voided" in refused.text
    done = browser.post(f"/patients/{pid}/scores/void", data={**form, "reason": "wrong patient"})
    assert "voided; it is kept with the reason" in done.text
    assert api.get(f"/api/v1/patients/{pid}/assessments", headers=auth(world.injector)).json() == []


def test_the_dashboard_alerts_follow_a_new_treatment(browser: TestClient, world: World, api: TestClient) -> None:
    """The alerts are kept between views, and computed again once the clinic's records change."""
    signed_in(browser, world.injector.username)
    pid = add_patient(api, world.injector)

    def alerts() -> str:
        page = browser.get("/").text
        return page.split('<ul class="alerts">', 1)[-1].split("</ul>", 1)[0] if '<ul class="alerts">' in page else ""

    assert pid not in alerts()
    add_treatment(api, world.injector, pid, date=days_ago(0), units=48)  # above the 20 U glabellar label dose
    assert pid in alerts()
