"""The calibration workflow behind ``wearoff calibrate`` and ``wearoff validate``.

``run_calibration`` fits the parameters, writes the parameter file the package ships (``data/parameters.json``)
and, by default, runs leave-one-study-out cross-validation and stores its refits beside (``data/validation.json``:
how each ended and the parameters it reached), so the validation report can be written without refitting: the
held-out predictions are made from the stored refits by the current code, so a change to how predictions or their
intervals are made is measured in seconds. A stored run is used only when it was made from the same evidence file
(same SHA-256) and the same parameters; otherwise it is recomputed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from wearoff.inference.calibrate import (
    RowPrediction,
    StudyRefit,
    fit,
    held_out_predictions,
    leave_one_study_out,
    provenance,
)
from wearoff.inference.evidence import EvidenceRow, read_arms
from wearoff.inference.likelihood import fit_rows
from wearoff.inference.metrics import Accuracy, Scored, accuracy
from wearoff.model.arms import predict_arms
from wearoff.model.parameters import Parameters, load_parameters, shipped_parameters_path

VALIDATION_FILE = "validation.json"


@dataclass(frozen=True)
class ValidationRun:
    """Predictions of every supported row in-sample and held out, with their summary figures."""

    params: Parameters
    rows: list[EvidenceRow]
    in_sample: list[RowPrediction]
    held_out: list[RowPrediction]
    refits: list[StudyRefit] = field(default_factory=list)

    @property
    def in_sample_accuracy(self) -> Accuracy:
        return accuracy([_scored(h) for h in self.in_sample])

    @property
    def held_out_accuracy(self) -> Accuracy:
        return accuracy([_scored(h) for h in self.held_out])


def _scored(h: RowPrediction) -> Scored:
    assert h.row.value is not None
    return Scored(h.row.endpoint, h.row.value, h.predicted, h.lower90, h.upper90)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scored_rows(rows: list[EvidenceRow]) -> list[EvidenceRow]:
    """Rows the model predicts and the evidence gives a value for."""
    return [r for r in rows if r.unsupported is None and r.value is not None and r.arm is not None]


def in_sample_predictions(params: Parameters, rows: list[EvidenceRow]) -> list[RowPrediction]:
    """Predictions of the fitted model for the rows it was fitted to."""
    usable = scored_rows(rows)
    preds = predict_arms(params, [r.arm for r in usable], [r.endpoint for r in usable], [r.day for r in usable])
    return [RowPrediction(r, p.predicted, p.lower90, p.upper90) for r, p in zip(usable, preds, strict=True)]


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def run_loso(
    rows: list[EvidenceRow], params: Parameters, workers: int, console: Console
) -> tuple[list[RowPrediction], list[StudyRefit]]:
    """Leave-one-study-out with a progress bar."""
    studies = list(dict.fromkeys(r.study for r in scored_rows(rows)))
    with _progress(console) as bar:
        task = bar.add_task("leave-one-study-out", total=len(studies))

        def step(message: str) -> None:
            bar.update(task, description=f"leave-one-study-out: {message.split(': ', 1)[-1]}")
            if message.startswith("study ") and not message.startswith("study 1/"):
                bar.advance(task)

        held, refits = leave_one_study_out(rows, params, workers=workers, progress=step)
        bar.update(task, completed=len(studies))
    unconverged = [r.study for r in refits if not r.converged]
    if unconverged:
        console.print(f"[yellow]refits that did not converge: {', '.join(unconverged)}[/yellow]")
    return held, refits


def store_validation(path: Path, evidence: Path, params: Parameters, refits: list[StudyRefit]) -> None:
    doc = {
        "evidence_sha256": _sha256(evidence),
        "parameters_sha256": hashlib.sha256(params.to_json().encode()).hexdigest(),
        "refits": [r.to_dict() for r in refits],
    }
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")


def load_validation(
    path: Path, evidence: Path, params: Parameters, rows: list[EvidenceRow]
) -> tuple[list[RowPrediction], list[StudyRefit]] | None:
    """The stored refits, if made from this evidence and these parameters, with the held-out predictions that the
    current code makes from them."""
    if not path.exists():
        return None
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("evidence_sha256") != _sha256(evidence):
        return None
    if doc.get("parameters_sha256") != hashlib.sha256(params.to_json().encode()).hexdigest():
        return None
    if not all("parameters" in r for r in doc.get("refits", [])):
        return None
    refits = [StudyRefit.from_dict(r) for r in doc["refits"]]
    return held_out_predictions(rows, refits), refits


def run_calibration(
    evidence: Path, output: Path | None, *, workers: int, loso: bool, console: Console
) -> ValidationRun:
    """Fit, write the parameter file (and the stored cross-validation), and report the figures."""
    rows = read_arms(evidence)
    training = fit_rows(rows)
    with _progress(console) as bar:
        task = bar.add_task("calibrating", total=None)
        result = fit(training, workers=workers, progress=lambda m: bar.update(task, description=f"calibrating: {m}"))
    params = replace(result.params, provenance=provenance(evidence, result, len(training)))
    target = output or shipped_parameters_path()
    target.write_text(params.to_json() + "\n", encoding="utf-8")
    console.print(f"parameters written to {target} ({len(params.values)} fitted, {result.iterations} iterations)")
    held: list[RowPrediction] = []
    refits: list[StudyRefit] = []
    if loso:
        held, refits = run_loso(rows, params, workers, console)
        store_validation(target.with_name(VALIDATION_FILE), evidence, params, refits)
    run = ValidationRun(params, rows, in_sample_predictions(params, rows), held, refits)
    console.print(f"in-sample: {describe(run.in_sample_accuracy)}")
    if held:
        console.print(f"leave-one-study-out: {describe(run.held_out_accuracy)}")
    return run


def validation_run(evidence: Path, *, refit: bool, workers: int, console: Console) -> ValidationRun:
    """The shipped parameters with their cross-validation: the stored run if it was made from this evidence and
    these parameters; recomputed with ``refit`` (75-100 minutes on two cores); else none, and the report says so."""
    rows = read_arms(evidence)
    params = load_parameters()
    path = shipped_parameters_path().with_name(VALIDATION_FILE)
    stored = None if refit else load_validation(path, evidence, params, rows)
    if stored is None and refit:
        stored = run_loso(rows, params, workers, console)
    elif stored is None:
        console.print(
            "no stored leave-one-study-out run for this evidence and these parameters: the report shows in-sample "
            "figures only; `wearoff validate --refit` recomputes it (75-100 minutes on two cores)"
        )
    held, refits = stored or ([], [])
    return ValidationRun(params, rows, in_sample_predictions(params, rows), held, refits)


def describe(acc: Accuracy) -> str:
    """One line of figures."""
    return (
        f"responder MAE {acc.responder_mae_points:.1f} points ({acc.responder_rows} rows), "
        f"duration error {100 * acc.duration_error:.1f} % ({acc.duration_rows} rows), "
        f"onset error {100 * acc.onset_error:.1f} % ({acc.onset_rows} rows), "
        f"90 % coverage {100 * acc.coverage90:.1f} % ({acc.rows} rows)"
    )


def accuracy_dict(acc: Accuracy) -> dict:
    return asdict(acc)
