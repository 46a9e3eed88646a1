"""The HTML validation report renders from a validation run: studies, table and figures on disk."""

from __future__ import annotations

import re
from pathlib import Path

from wearoff.inference.evidence import read_arms
from wearoff.inference.workflow import ValidationRun, in_sample_predictions
from wearoff.model.parameters import load_parameters
from wearoff.report import validation
from wearoff.report.plots import arm_labels, clopper_pearson
from wearoff.report.validation import render_report

ARMS_CSV = Path(__file__).resolve().parents[2] / "shared" / "evidence" / "arms.csv"
STUDIES = ("CARRUTHERS2005_WOMEN", "TOXINS2021_REF17_ABO120", "RAPPL2013", "CIA2013_INCO25")


def test_report_renders_studies_table_and_figures(tmp_path: Path) -> None:
    params = load_parameters()
    rows = [r for r in read_arms(ARMS_CSV) if r.study in STUDIES]
    assert {r.study for r in rows} == set(STUDIES)
    predicted = in_sample_predictions(params, rows)
    run = ValidationRun(params, rows, predicted, predicted)

    path = render_report(run, tmp_path / "report", ARMS_CSV.name)

    assert path == tmp_path / "report" / "report.html"
    html = path.read_text(encoding="utf-8")
    for study in STUDIES:
        assert study in html
    assert '<table id="loso-table">' in html
    assert html.count('<td class="study">') == len(predicted)  # one table row per scored row
    misses = sum(1 for h in predicted if not h.lower90 <= h.row.value <= h.upper90)
    assert html.count('<tr class="miss">') == misses
    assert "decision support for qualified professionals" in html.lower()
    assert html.count("Severity was rated on a 5-point scale") == 1  # CIA2013_INCO25's caption only
    assert "http://" not in html and "https://" not in html
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) == len(STUDIES) + 1  # one figure per study and the calibration plot
    for name in images:
        assert name.endswith(".png")
        figure = path.parent / name
        assert figure.is_file() and figure.stat().st_size > 0


def test_write_validation_report_renders_the_run_it_gets(tmp_path: Path, monkeypatch) -> None:
    params = load_parameters()
    rows = [r for r in read_arms(ARMS_CSV) if r.study == "RAPPL2013"]
    predicted = in_sample_predictions(params, rows)
    calls = []

    def fake_run(evidence, *, refit, workers, console):
        calls.append((evidence, refit, workers))
        return ValidationRun(params, rows, predicted, predicted)

    monkeypatch.setattr(validation, "validation_run", fake_run)
    path = validation.write_validation_report(ARMS_CSV, tmp_path, refit=True, workers=3, console=None)
    assert calls == [(ARMS_CSV, True, 3)]
    assert path == tmp_path / "report.html"
    assert "RAPPL2013" in path.read_text(encoding="utf-8")


def test_clopper_pearson_interval() -> None:
    low, high = clopper_pearson(50.0, 20)  # type: ignore[misc]
    assert 28 < low < 50 < high < 72
    assert clopper_pearson(0.0, 10)[0] == 0.0  # type: ignore[index]
    assert clopper_pearson(100.0, 10)[1] == 100.0  # type: ignore[index]
    assert clopper_pearson(40.0, None) is None


def test_arm_labels_are_distinct() -> None:
    rows = [r for r in read_arms(ARMS_CSV) if r.arm is not None and r.study == "JAPAN_CFL_GL"]
    labels = arm_labels([r.arm for r in rows if r.arm is not None])
    assert len(set(labels.values())) == len(labels)
