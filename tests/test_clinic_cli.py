"""`wearoff patient show` and `wearoff due` on a clinic database."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wearoff.cli import app

runner = CliRunner()
AS_OF = "2024-06-01"


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("clinic")
    url = f"sqlite:///{folder / 'clinic.db'}"
    for args in (
        ["simulate", "clinic", "--patients", "30", "--years", "2", "--seed", "8", "-o", str(folder)],
        ["db", "init", "--database-url", url],
        ["import", str(folder), "--database-url", url],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return url


def test_patient_show_gives_timeline_forecast_window_reasons_and_a_plot(database: str, tmp_path: Path) -> None:
    png = tmp_path / "curve.png"
    result = runner.invoke(
        app, ["patient", "show", "P00001", "--as-of", AS_OF, "--plot", str(png), "--database-url", database]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "treatment" in out and "wear-off: day" in out and "re-book between" in out and "why" in out
    plots = list(tmp_path.glob("curve-*.png"))
    assert plots and all(p.stat().st_size > 5000 for p in plots)


def test_unknown_patient_is_one_line_exit_2(database: str) -> None:
    result = runner.invoke(app, ["patient", "show", "NOBODY", "--database-url", database])
    assert result.exit_code == 2 and "NOBODY" in result.output and len(result.output.strip().splitlines()) == 1


def test_due_lists_open_windows(database: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["due", "--within", "30", "--as-of", AS_OF, "--database-url", database])
    assert result.exit_code == 0, result.output
    assert "due between 2024-06-01 and 2024-07-01" in result.output
    # every listed patient has a window that is open or opens within 30 days, per forecast-records
    folder = Path(database.removeprefix("sqlite:///")).parent
    out = tmp_path / "f.csv"
    assert runner.invoke(app, ["forecast-records", str(folder), "--as-of", AS_OF, "-o", str(out)]).exit_code == 0
    with out.open() as handle:
        due = {
            (r["patient_id"], r["area"])
            for r in csv.DictReader(handle)
            if r["rebook_from"] <= "2024-07-01" and r["rebook_to"] >= AS_OF
        }
    assert due and all(patient in result.output for patient, _ in due)
