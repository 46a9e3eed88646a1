"""``wearoff arms predict``: an arms CSV in, the same CSV with ``predicted, lower90, upper90`` out."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from wearoff.inference.evidence import EvidenceRow, parse_rows, read_table
from wearoff.model.arms import predict_arms
from wearoff.model.parameters import Parameters, load_parameters

OUTPUT_COLUMNS = ("predicted", "lower90", "upper90")


@dataclass
class PredictionReport:
    """How many rows were predicted, and the rows left empty with the reason."""

    predicted: int = 0
    unsupported: list[EvidenceRow] = field(default_factory=list)

    def reasons(self) -> dict[str, int]:
        """Count of empty rows by reason."""
        return dict(Counter(r.unsupported or "" for r in self.unsupported).most_common())


def _fmt(value: float) -> str:
    return f"{value:.4g}" if value == value else ""


def predict_arms_file(source: Path, target: Path, params: Parameters | None = None) -> PredictionReport:
    """Read an arms CSV, predict every supported row and write IN plus the prediction columns.

    The input is validated whole before anything is written: a malformed file writes nothing.
    """
    params = params or load_parameters()
    header, table = read_table(source)
    rows = parse_rows(source, table)
    supported = [r for r in rows if r.unsupported is None and r.arm is not None]
    predictions = predict_arms(
        params, [r.arm for r in supported], [r.endpoint for r in supported], [r.day for r in supported]
    )
    by_line = {r.line: p for r, p in zip(supported, predictions, strict=True)}
    report = PredictionReport(predicted=len(supported), unsupported=[r for r in rows if r.unsupported])
    columns = [c for c in header if c not in OUTPUT_COLUMNS] + list(OUTPUT_COLUMNS)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row, parsed in zip(table, rows, strict=True):
            p = by_line.get(parsed.line)
            out = dict(row)
            out["predicted"] = _fmt(p.predicted) if p else ""
            out["lower90"] = _fmt(p.lower90) if p else ""
            out["upper90"] = _fmt(p.upper90) if p else ""
            writer.writerow(out)
    tmp.replace(target)
    return report
