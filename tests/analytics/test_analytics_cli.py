"""`wearoff analytics` end to end on a simulated clinic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wearoff.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clinic")
    result = runner.invoke(
        app, ["simulate", "clinic", "--patients", "150", "--years", "2", "--seed", "1", "-o", str(folder)]
    )
    assert result.exit_code == 0, result.output
    return folder


def test_analytics_writes_an_html_report_with_its_figures(clinic: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = runner.invoke(app, ["analytics", "--records", str(clinic), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "analytics.html").read_text()
    for text in (
        "Time to wear-off",
        "lognormal",
        "time ratio",
        "weak evidence",
        "right-censored",
        "observed like the clinic",
    ):
        assert text in html
    assert "http://" not in html and "https://" not in html  # no CDN
    for png in ("curves_area.png", "curves_product.png", "effects.png", "comparison.png"):
        assert (out / png).stat().st_size > 10_000
        assert f'src="{png}"' in html
    assert "not recorded" in html  # the simulated clinic records no injector
    # the simulated clinic follows the shipped model: its refitted level is near 1
    ratio = float(re.search(r"last <strong>([0-9.]+) times</strong>", html).group(1))
    assert 0.85 < ratio < 1.2


def test_analytics_bad_folder_is_one_line_with_exit_code_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analytics", "--records", str(tmp_path / "missing"), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "not a folder" in result.output


def test_fit_command_converts_a_records_folder(clinic: Path, tmp_path: Path) -> None:
    args = ["fit", "--records", str(clinic), "--group", "patient", "--family", "lognormal", "--parquet-out"]
    result = runner.invoke(app, [*args, str(tmp_path / "pq")])
    assert result.exit_code == 0, result.output
    assert "log_relative_dose" in result.output and "log_sigma_re" in result.output, result.output
    assert len(list((tmp_path / "pq").glob("part-*.parquet"))) == 8
