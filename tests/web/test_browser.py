"""The app in real Chromium: sign in, chart a treatment on the face map (warning preview, save), see the forecast
curve and window, record a score and see the window move, open the printable summary. Screenshots go to
build/screenshots/."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_api
import pytest
import uvicorn

from wearoff.web import WebSettings, create_app
from wearoff.web.demo import seed_demo

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (scripts/ensure-chromium.sh)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a seeded temporary SQLite database, served by uvicorn in a background thread."""
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'demo.db'}"
    seed_demo(url, patients=12, seed=3)
    report = folder / "evidence"
    report.mkdir()
    (report / "report.html").write_text("<h1>Validation report</h1>", encoding="utf-8")
    app = create_app(WebSettings(database_url=url, secret_key="browser-tests", report_dir=report))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=server)
        yield context.new_page()
        browser.close()


def shot(page: object, name: str, *, full: bool = True) -> None:
    page.evaluate("() => window.scrollTo(0, 0)")  # type: ignore[attr-defined]
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)  # type: ignore[attr-defined]


def test_the_clinic_flow_in_chromium(page: object) -> None:
    expect = playwright_api.expect
    p = page
    p.goto("/")  # type: ignore[attr-defined]
    expect(p.locator("h2", has_text="Sign in")).to_be_visible()
    shot(p, "01-login")
    p.fill("input[name=username]", "rahman")
    p.fill("input[name=password]", "demo-injector-pass")
    p.click("button[type=submit]")
    expect(p.locator("h1")).to_contain_text("Welcome")
    expect(p.locator("#due table, #due .empty")).to_be_visible(timeout=30_000)
    shot(p, "02-dashboard")

    patient_id = f"PW{dt.datetime.now():%H%M%S}"
    p.goto("/patients/new")
    p.fill("input[name=patient_id]", patient_id)
    p.fill("input[name=birth_year]", "1984")
    p.check("input[name=sex][value=female]")
    p.click("button:has-text('Add patient')")
    expect(p.locator("h1")).to_have_text(patient_id)

    p.click("#chart-treatment")
    expect(p.locator("h1")).to_have_text("Chart a treatment")
    p.click("svg.facemap .zone[data-area=glabellar]")
    expect(p.locator("#area-select")).to_have_value("glabellar")
    expect(p.locator("#area-name")).to_have_text("Glabellar (frown) lines")
    p.check("#mark-points")
    p.click("svg.facemap .zone[data-area=glabellar]", position={"x": 12, "y": 20})
    p.click("svg.facemap .zone[data-area=glabellar]", position={"x": 28, "y": 20})
    p.fill("input[name=date]", (dt.date.today() - dt.timedelta(days=40)).isoformat())
    p.fill("#units", "30")
    p.fill("input[name=lot]", "C4412")
    expect(p.locator("#preview-warnings")).to_contain_text("Above label", timeout=15_000)
    expect(p.locator("#preview")).to_contain_text("Re-book between")
    expect(p.locator("#points-count")).to_contain_text("2 points, 15 U each")
    shot(p, "03-chart-preview")
    p.click("#save-treatment")

    expect(p.locator(".flash")).to_contain_text("Charted 30 U to Glabellar")
    window = p.locator("[data-testid=window-glabellar]")
    expect(window).to_be_visible()
    assert p.evaluate("() => !!Chart.getChart(document.getElementById('chart-glabellar'))")
    before = window.inner_text()
    wear_before = p.locator("[data-testid=wear-off-glabellar]").inner_text()
    shot(p, "04-patient")

    p.check("#score-glabellar input[name=severity][value='3']", force=True)
    p.click("#score-glabellar button[type=submit]")
    expect(p.locator(".flash")).to_contain_text("Score 3 recorded")
    after = p.locator("[data-testid=window-glabellar]").inner_text()
    assert after != before, f"the window did not move: {before}"
    assert p.locator("[data-testid=wear-off-glabellar]").inner_text() != wear_before
    scores = p.evaluate("() => Chart.getChart(document.getElementById('chart-glabellar')).data.datasets[3].data.length")
    assert scores == 1
    shot(p, "05-patient-after-score")

    p.goto(f"/patients/{patient_id}/summary")
    expect(p.locator("h1")).to_have_text("Your treatment summary")
    expect(p.locator(".summary-area")).to_contain_text("A good time for your next visit")
    shot(p, "06-summary")
    p.emulate_media(media="print")
    expect(p.locator(".summary-actions")).to_be_hidden()
    shot(p, "07-summary-print")
    p.emulate_media(media="screen")

    p.goto("/analytics")
    expect(p.locator("h1")).to_have_text("How long it lasts here")
    shot(p, "08-analytics")
