"""The command line: contracts, JSON output and one-line errors with exit code 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wearoff.cli import app

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def test_forecast_prints_intervals() -> None:
    result = _run("forecast", "--product", "onabotulinumtoxinA", "--area", "glabellar", "--units", "20")
    assert result.exit_code == 0, result.output
    assert "wear-off" in result.output and "90 %" in result.output


def test_forecast_json_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "curve.png"
    result = _run(
        "forecast",
        "--product",
        "abobotulinumtoxinA",
        "--area",
        "glabellar",
        "--units",
        "50",
        "--sex",
        "male",
        "--age",
        "45",
        "--activity",
        "high",
        "--prior-treatments",
        "2",
        "--json",
        "--plot",
        str(png),
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["treatment"]["sex"] == "male" and doc["treatment"]["prior_treatments"] == 2
    w = doc["wear_off_day"]
    assert w["lower90"] <= w["median"] <= w["upper90"]
    assert png.stat().st_size > 5000 and png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--product", "botox", "--area", "glabellar", "--units", "20"], "unknown product 'botox'"),
        (["--product", "onabotulinumtoxinA", "--area", "knee", "--units", "20"], "unknown area 'knee'"),
        (["--product", "onabotulinumtoxinA", "--area", "glabellar", "--units", "-4"], "units must be positive"),
        (["--product", "onabotulinumtoxinA", "--area", "glabellar", "--units", "9000"], "check the units"),
        (["--product", "onabotulinumtoxinA", "--area", "glabellar", "--units", "lots"], "units must be a number"),
        (["--product", "onabotulinumtoxinA", "--area", "glabellar", "--units", "20", "--sex", "x"], "sex must be"),
    ],
)
def test_bad_forecast_input_is_one_line_exit_2(args: list[str], message: str) -> None:
    result = _run("forecast", *args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
    assert "Traceback" not in result.output


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


HEADER = ["study", "product", "area", "units", "n", "female_pct", "endpoint", "day", "value", "approx", "note"]


def test_arms_predict_contract(tmp_path: Path) -> None:
    src = _write_csv(
        tmp_path / "in.csv",
        HEADER,
        [
            ["A", "onabotulinumtoxinA", "glabellar", "20", "100", "90", "inv_none_mild", "30", "", "0", "x, y"],
            ["A", "onabotulinumtoxinA", "glabellar", "20", "100", "90", "median_return_baseline_days", "", "", "0", ""],
            ["B", "onabotulinumtoxinA", "masseter", "25", "14", "", "masseter_pct_reduction", "90", "15", "0", ""],
            ["C", "placebo", "glabellar", "0", "", "", "subj_ge1", "30", "", "0", ""],
        ],
    )
    out = tmp_path / "out.csv"
    result = _run("arms", "predict", str(src), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "3 rows predicted" in result.output and "1 rows left empty" in result.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0].keys()) == [*HEADER, "predicted", "lower90", "upper90"]
    assert rows[0]["note"] == "x, y"
    pct = rows[0]
    assert 0 <= float(pct["lower90"]) <= float(pct["predicted"]) <= float(pct["upper90"]) <= 100
    days = rows[1]
    assert 60 < float(days["predicted"]) < 250
    assert rows[2]["predicted"] == rows[2]["lower90"] == rows[2]["upper90"] == ""
    assert 5 < float(rows[3]["predicted"]) < 50  # placebo: raters' optimism only


def test_arms_predict_without_value_column(tmp_path: Path) -> None:
    header = [c for c in HEADER if c != "value"]
    src = _write_csv(
        tmp_path / "in.csv",
        header,
        [["A", "incobotulinumtoxinA", "glabellar", "20", "50", "", "inv_ge1", "120", "0", ""]],
    )
    out = tmp_path / "out.csv"
    assert _run("arms", "predict", str(src), "-o", str(out)).exit_code == 0
    assert float(next(csv.DictReader(out.open()))["predicted"]) > 0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [["A", "onabotulinumtoxinA", "glabellar", "twenty", "", "", "inv_ge1", "30", "", "0", ""]],
            "line 2, column units: 'twenty' is not a number",
        ),
        (
            [["A", "onabotulinumtoxinA", "glabellar", "-20", "", "", "inv_ge1", "30", "", "0", ""]],
            "line 2, column units",
        ),
        (
            [["A", "onabotulinumtoxinA", "glabellar", "20", "12.5", "", "inv_ge1", "30", "", "0", ""]],
            "column n: '12.5' is not a whole number",
        ),
        (
            [["A", "onabotulinumtoxinA", "glabellar", "20", "", "140", "inv_ge1", "30", "", "0", ""]],
            "female_pct: 140 is not a percent",
        ),
    ],
)
def test_malformed_arms_csv_is_refused_and_writes_nothing(tmp_path: Path, rows, message) -> None:
    src = _write_csv(tmp_path / "in.csv", HEADER, rows)
    out = tmp_path / "out.csv"
    result = _run("arms", "predict", str(src), "-o", str(out))
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_columns_and_missing_file(tmp_path: Path) -> None:
    src = _write_csv(tmp_path / "in.csv", ["study", "product"], [["A", "onabotulinumtoxinA"]])
    result = _run("arms", "predict", str(src), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2 and "missing column(s) area" in result.output
    result = _run("arms", "predict", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.csv"))
    assert result.exit_code == 2 and "no such file" in result.output
