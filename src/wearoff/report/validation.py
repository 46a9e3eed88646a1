"""The HTML validation report behind ``wearoff validate -o DIR``.

:func:`write_validation_report` gets the validation run (the shipped parameters with their leave-one-study-out
predictions, stored or recomputed) and :func:`render_report` writes ``DIR/report.html`` with its PNG figures
beside it: the summary figures, one figure per study, the leave-one-study-out table, the calibration plot and
the rows the model does not predict. The page is self-contained apart from the figures (inline CSS, no
scripts, no external addresses).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from wearoff import __version__
from wearoff.inference.calibrate import RowPrediction
from wearoff.inference.evidence import EvidenceRow
from wearoff.inference.metrics import Accuracy
from wearoff.inference.workflow import ValidationRun, validation_run
from wearoff.model.arms import DEFAULT_ARM_SIZE
from wearoff.model.endpoints import ENDPOINTS
from wearoff.report.plots import arm_labels, is_curve_row, plot_calibration, plot_study

REPORT_FILE = "report.html"
CALIBRATION_FIGURE = "calibration.png"
TEMPLATE = "validation.html"
DISCLAIMER = (
    "Decision support for qualified professionals: the figures describe published trial arms and do "
    "not replace clinical judgement about an individual patient."
)


def write_validation_report(
    evidence: Path, output: Path, *, refit: bool = False, workers: int = 1, console: Console | None = None
) -> Path:
    """Write the validation report of the shipped parameters on *evidence* to ``output/report.html``."""
    console = console or Console()
    run = validation_run(evidence, refit=refit, workers=workers, console=console)
    return render_report(run, output, evidence.name, console=console)


# ---------------------------------------------------------------------------------------------- view models


@dataclass(frozen=True)
class Metric:
    """One summary figure, held out and in-sample."""

    label: str
    held_out: str
    in_sample: str
    held_out_rows: int
    in_sample_rows: int
    note: str


@dataclass(frozen=True)
class TableRow:
    """One scored row of the leave-one-study-out table."""

    study: str
    anchor: str
    product: str
    area: str
    units: str
    endpoint: str
    meaning: str
    day: str
    observed: str
    approx: bool
    in_sample: str
    held_out: str
    interval: str
    covers: bool | None


@dataclass(frozen=True)
class StudySection:
    """A study's figure and what its caption says."""

    study: str
    anchor: str
    figure: str
    arms: list[str]
    rows: int
    held_out_covered: int
    held_out_rows: int
    endpoints: list[tuple[str, str]]
    has_curves: bool
    has_days: bool
    missing_n: bool
    five_point: bool


@dataclass(frozen=True)
class Unpredicted:
    """Rows the model leaves unpredicted for one kind of reason (``endpoint ... is not modelled``)."""

    reason: str
    count: int
    details: list[tuple[str, int]]
    studies: list[str]


def _fmt(value: float | None, endpoint: str, *, observed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    unit = " %" if ENDPOINTS[endpoint].unit == "percent" else " d"
    if observed:
        return f"{value:g}{unit}"
    return f"{_days(value) if unit == ' d' else f'{value:.1f}'}{unit}"


def _days(value: float) -> str:
    """Days to the precision that matters: a tenth for onset-scale values, whole days for durations."""
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _interval(h: RowPrediction | None) -> str:
    if h is None or not (math.isfinite(h.lower90) and math.isfinite(h.upper90)):
        return "—"
    if ENDPOINTS[h.row.endpoint].unit == "percent":
        return f"{h.lower90:.1f}–{h.upper90:.1f} %"
    return f"{_days(h.lower90)}–{_days(h.upper90)} d"


def _covers(h: RowPrediction | None) -> bool | None:
    if h is None or h.row.value is None or not math.isfinite(h.predicted):
        return None
    return bool(h.lower90 <= h.row.value <= h.upper90)  # the bounds may be numpy floats


def _percent(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{100 * x:.1f} %"


def _points(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{x:.1f} pts"


def metrics(in_sample: Accuracy, held_out: Accuracy) -> list[Metric]:
    """The four summary figures of the header."""
    return [
        Metric(
            "Responder rate error",
            _points(held_out.responder_mae_points),
            _points(in_sample.responder_mae_points),
            held_out.responder_rows,
            in_sample.responder_rows,
            "mean absolute error, percentage points",
        ),
        Metric(
            "Duration error",
            _percent(held_out.duration_error),
            _percent(in_sample.duration_error),
            held_out.duration_rows,
            in_sample.duration_rows,
            "mean absolute relative error",
        ),
        Metric(
            "Onset error",
            _percent(held_out.onset_error),
            _percent(in_sample.onset_error),
            held_out.onset_rows,
            in_sample.onset_rows,
            "mean absolute relative error",
        ),
        Metric(
            "90 % interval coverage",
            _percent(held_out.coverage90),
            _percent(in_sample.coverage90),
            held_out.rows,
            in_sample.rows,
            "share of observed values inside the interval (target 90 %)",
        ),
    ]


def slugs(studies: list[str]) -> dict[str, str]:
    """A file- and anchor-safe name per study, unique."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for study in studies:
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", study).strip("-") or "study"
        slug, i = base, 2
        while slug.lower() in taken:
            slug, i = f"{base}-{i}", i + 1
        taken.add(slug.lower())
        out[study] = slug
    return out


def table_rows(run: ValidationRun, anchors: dict[str, str]) -> list[TableRow]:
    """One row per scored row, in the order of the evidence file."""
    held = {h.row.line: h for h in run.held_out}
    out = []
    for h in sorted(run.in_sample, key=lambda h: h.row.line):
        row, arm = h.row, h.row.arm
        assert arm is not None
        ho = held.get(row.line)
        out.append(
            TableRow(
                study=row.study,
                anchor=anchors.get(row.study, ""),
                product=arm.product,
                area=arm.area,
                units="—" if arm.product == "placebo" else f"{arm.units:g}",
                endpoint=row.endpoint,
                meaning=ENDPOINTS[row.endpoint].meaning,
                day="—" if row.day is None else f"{row.day:g}",
                observed=_fmt(row.value, row.endpoint, observed=True),
                approx=row.approx,
                in_sample=_fmt(h.predicted, row.endpoint),
                held_out=_fmt(ho.predicted if ho else None, row.endpoint),
                interval=_interval(ho),
                covers=_covers(ho),
            )
        )
    return out


def unpredicted(rows: list[EvidenceRow]) -> list[Unpredicted]:
    """Rows with no prediction, grouped by the kind of reason (the quoted code taken out), most frequent first."""
    groups: dict[str, list[EvidenceRow]] = defaultdict(list)
    for row in rows:
        if row.unsupported is not None:
            groups[" ".join(re.sub(r"'[^']*'", "", row.unsupported).split())].append(row)
    out = []
    for reason, members in groups.items():
        details: dict[str, int] = defaultdict(int)
        for row in members:
            quoted = re.findall(r"'([^']*)'", row.unsupported or "")
            if quoted:
                details[quoted[0]] += 1
        out.append(
            Unpredicted(
                reason,
                len(members),
                sorted(details.items(), key=lambda d: (-d[1], d[0])),
                list(dict.fromkeys(r.study for r in members)),
            )
        )
    return sorted(out, key=lambda u: (-u.count, u.reason))


def _study_section(study: str, slug: str, rows: list[RowPrediction], held: dict[int, RowPrediction]) -> StudySection:
    arms = [h.row.arm for h in rows if h.row.arm is not None]
    scored = [_covers(held.get(h.row.line)) for h in rows]
    return StudySection(
        study=study,
        anchor=slug,
        figure=f"study-{slug}.png",
        arms=list(arm_labels(arms).values()),
        rows=len(rows),
        held_out_covered=sum(1 for c in scored if c),
        held_out_rows=sum(1 for c in scored if c is not None),
        endpoints=[(code, ENDPOINTS[code].meaning) for code in dict.fromkeys(h.row.endpoint for h in rows)],
        has_curves=any(is_curve_row(h.row) for h in rows),
        has_days=any(not is_curve_row(h.row) for h in rows),
        missing_n=any(a.n is None for a in arms),
        five_point=any(a.scale_points == 5 for a in arms),
    )


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("wearoff.report", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# ---------------------------------------------------------------------------------------------- rendering


def render_report(run: ValidationRun, output: Path, evidence_name: str, *, console: Console | None = None) -> Path:
    """Write ``output/report.html`` and its figures for a validation run; return the HTML file's path."""
    console = console or Console(quiet=True)
    output.mkdir(parents=True, exist_ok=True)
    by_study: dict[str, list[RowPrediction]] = defaultdict(list)
    for h in run.in_sample:
        by_study[h.row.study].append(h)
    studies = list(dict.fromkeys(r.study for r in run.rows))
    studies += [s for s in by_study if s not in studies]
    anchors = slugs(studies)
    held = {h.row.line: h for h in run.held_out}

    sections: list[StudySection] = []
    plotted = [s for s in studies if by_study.get(s)]
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("study figures", total=len(plotted) + 1)
        for study in plotted:
            section = _study_section(study, anchors[study], by_study[study], held)
            plot_study(study, by_study[study], held, run.params, output / section.figure)
            sections.append(section)
            bar.advance(task)
        bar.update(task, description="calibration figure")
        plot_calibration(run.held_out, output / CALIBRATION_FIGURE)
        bar.advance(task)

    rows = table_rows(run, anchors)
    html = (
        _environment()
        .get_template(TEMPLATE)
        .render(
            title="Validation report",
            evidence_name=evidence_name,
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            version=__version__,
            disclaimer=DISCLAIMER,
            metrics=metrics(run.in_sample_accuracy, run.held_out_accuracy),
            provenance=[(k, _provenance_value(v)) for k, v in run.params.provenance.items()],
            fitted_parameters=len(run.params.values),
            n_rows=len(run.rows),
            n_scored=len(run.in_sample),
            n_held_out=len(run.held_out),
            refits=len(run.refits),
            unconverged=[r.study for r in run.refits if not r.converged],
            n_studies=len(studies),
            sections=sections,
            unplotted=[s for s in studies if not by_study.get(s)],
            table=rows,
            misses=sum(1 for r in rows if r.covers is False),
            calibration_figure=CALIBRATION_FIGURE,
            unpredicted=unpredicted(run.rows),
            n_unpredicted=sum(1 for r in run.rows if r.unsupported is not None),
            default_arm_size=DEFAULT_ARM_SIZE,
        )
    )
    path = output / REPORT_FILE
    path.write_text(html, encoding="utf-8")
    console.print(f"validation report: {len(sections)} study figures, {len(rows)} rows in the table")
    return path


def _provenance_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
