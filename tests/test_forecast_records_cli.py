"""`wearoff simulate clinic` and `wearoff forecast-records`: the contract of DESIGN.md, end to end."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wearoff.cli import app
from wearoff.plan.records_forecast import CSV_COLUMNS

runner = CliRunner()
AS_OF = "2024-03-01"


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clinic")
    result = runner.invoke(
        app, ["simulate", "clinic", "--patients", "40", "--years", "2", "--seed", "4", "-o", str(folder)]
    )
    assert result.exit_code == 0, result.output
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_simulated_clinic_writes_the_records_and_the_truth(clinic: Path) -> None:
    assert {p.name for p in clinic.iterdir()} == {"patients.csv", "treatments.csv", "assessments.csv", "truth.csv"}
    truth = _rows(clinic / "truth.csv")
    assert len(truth) == len(_rows(clinic / "treatments.csv")) and float(truth[0]["true_wear_off_day"]) > 0


@pytest.mark.parametrize("population_only", [False, True])
def test_forecast_records_contract(clinic: Path, tmp_path: Path, population_only: bool) -> None:
    out = tmp_path / "out.csv"
    args = ["forecast-records", str(clinic), "--as-of", AS_OF, "-o", str(out)]
    result = runner.invoke(app, args + (["--population-only"] if population_only else []))
    assert result.exit_code == 0, result.output
    rows = _rows(out)
    assert tuple(rows[0]) == CSV_COLUMNS
    treated = {(t["patient_id"], t["area"]): t for t in _rows(clinic / "treatments.csv") if t["date"] <= AS_OF}
    assert {(r["patient_id"], r["area"]) for r in rows} == set(treated)
    latest = {}
    for t in _rows(clinic / "treatments.csv"):
        key = (t["patient_id"], t["area"])
        if t["date"] <= AS_OF and (key not in latest or t["date"] > latest[key]["date"]):
            latest[key] = t
    for r in rows:
        assert r["treatment_id"] == latest[(r["patient_id"], r["area"])]["treatment_id"]
        assert float(r["wear_off_day_lower90"]) <= float(r["wear_off_day_median"]) <= float(r["wear_off_day_upper90"])
        opens, closes = date.fromisoformat(r["rebook_from"]), date.fromisoformat(r["rebook_to"])
        assert (opens - date.fromisoformat(r["treatment_date"])).days >= 90 and closes > opens


def test_later_records_do_not_change_an_earlier_forecast(clinic: Path, tmp_path: Path) -> None:
    """Forecasts as of a date use only what was recorded by then: cutting the files at that date changes nothing."""
    cut = tmp_path / "cut"
    cut.mkdir()
    for name, column in (("patients.csv", None), ("treatments.csv", "date"), ("assessments.csv", "date")):
        rows = _rows(clinic / name)
        with (cut / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(r for r in rows if column is None or r[column] <= AS_OF)
    full, part = tmp_path / "full.csv", tmp_path / "part.csv"
    assert runner.invoke(app, ["forecast-records", str(clinic), "--as-of", AS_OF, "-o", str(full)]).exit_code == 0
    assert runner.invoke(app, ["forecast-records", str(cut), "--as-of", AS_OF, "-o", str(part)]).exit_code == 0
    assert full.read_text() == part.read_text()


def test_bad_records_name_every_bad_row_and_write_nothing(clinic: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("patients.csv", "treatments.csv", "assessments.csv"):
        (bad / name).write_text((clinic / name).read_text())
    lines = (bad / "assessments.csv").read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 2)[0] + ",5,clinician"
    lines[2] = lines[2].rsplit(",", 2)[0] + ",1,nurse"
    (bad / "assessments.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["forecast-records", str(bad), "--as-of", AS_OF, "-o", str(out)])
    assert result.exit_code == 2
    assert "assessments.csv:2: severity" in result.output and "assessments.csv:3: rater" in result.output
    assert not out.exists()
