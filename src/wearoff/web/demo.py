"""A demo clinic: simulated patients (:func:`wearoff.simulation.clinic.simulate_clinic`) moved so that their
history ends today, with lots, expiry dates, dilutions and injectors, and three users with printed passwords."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wearoff.records import csv_io, db
from wearoff.records.audit import record_import
from wearoff.simulation.clinic import START, simulate_clinic
from wearoff.web.services import users

DEMO_CLINIC = "Riverside Aesthetics"
INJECTORS = ("Dr Amara Rahman", "Dr Jonas Weber", "Nurse Li Okafor")
DEMO_USERS = (
    ("admin", "Clinic Admin", "admin", "demo-admin-pass"),
    ("rahman", "Dr Amara Rahman", "injector", "demo-injector-pass"),
    ("desk", "Front Desk", "front_desk", "demo-desk-pass"),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    password: str


def _write(folder: Path, name: str, rows: list[dict], columns: tuple[str, ...]) -> None:
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def demo_records(folder: Path, patients: int, years: float, seed: int, today: dt.date) -> Path:
    """Write a simulated clinic's records folder whose last day is ``today`` (rows after it are left out)."""
    clinic = simulate_clinic(patients, years, seed)
    shift = today - (START + dt.timedelta(days=int(365.25 * years)))
    rng = np.random.default_rng(seed + 1)

    def moved(text: str) -> str:
        return (dt.date.fromisoformat(text) + shift).isoformat()

    injector_of = {p["patient_id"]: INJECTORS[int(rng.integers(len(INJECTORS)))] for p in clinic.patients}
    treatments = []
    for t in clinic.treatments:
        day = dt.date.fromisoformat(t["date"]) + shift
        if day > today:
            continue
        lot_month = day.replace(day=1)
        treatments.append(
            {
                **t,
                "date": day.isoformat(),
                "lot": f"{t['product'][:3].upper()}{lot_month:%y%m}{int(rng.integers(10, 99))}",
                "expiry": (lot_month + dt.timedelta(days=int(rng.integers(200, 500)))).isoformat(),
                "dilution_ml": "2.5" if t["product"] != "abobotulinumtoxinA" else "1.5",
                "injector": injector_of[t["patient_id"]],
            }
        )
    assessments = [
        {**a, "date": moved(a["date"])} for a in clinic.assessments if dt.date.fromisoformat(moved(a["date"])) <= today
    ]
    _write(folder, csv_io.PATIENTS, clinic.patients, csv_io.PATIENT_COLUMNS)
    _write(folder, csv_io.TREATMENTS, treatments, csv_io.TREATMENT_COLUMNS + csv_io.TREATMENT_OPTIONAL)
    _write(folder, csv_io.ASSESSMENTS, assessments, csv_io.ASSESSMENT_COLUMNS)
    return folder


def seed_demo(
    url: str,
    *,
    patients: int = 60,
    years: float = 2.5,
    seed: int = 7,
    clinic: str = DEMO_CLINIC,
    today: dt.date | None = None,
) -> list[DemoLogin]:
    """Migrate the database at ``url``, import a simulated clinic and add the demo users; the logins."""
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with tempfile.TemporaryDirectory(prefix="wearoff-demo-") as scratch:
            folder = demo_records(Path(scratch), patients, years, seed, today or dt.date.today())
            with db.session_scope(engine) as session:
                report = csv_io.import_folder(session, folder, clinic, today=today)
                record_import(session, report, "csv", "demo seed", "demo seed")
                logins = []
                for username, name, role, password in DEMO_USERS:
                    if users.user_exists(session, username):
                        continue
                    users.create_user(session, clinic, username, password, role, name)
                    logins.append(DemoLogin(username, role, password))
        return logins or [DemoLogin(u, r, p) for u, _, r, p in DEMO_USERS]
    finally:
        engine.dispose()
