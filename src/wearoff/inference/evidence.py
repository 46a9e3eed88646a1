"""Reading a published-arms CSV (the columns of ``shared/evidence/arms.csv``) into validated rows.

Columns are kept as the text they were given, so a prediction file reproduces its input exactly and only
adds columns. A malformed file raises :class:`EvidenceError` naming the line and column.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from wearoff.catalog import Catalog, load_catalog
from wearoff.inference.errors import EvidenceError
from wearoff.model.arms import Arm
from wearoff.model.endpoints import ENDPOINTS

REQUIRED_COLUMNS = ("study", "product", "area", "units", "n", "female_pct", "endpoint", "day")
FIVE_POINT_NOTE = re.compile(r"\b(5|five)[- ]point\b", re.IGNORECASE)
"""How a row's note says its severity was rated on a 5-point scale ("5-point Merz scale", "Merz 5-point scale"):
the evidence README's convention, "on a 4-point scale ... unless the note says a 5-point scale"."""


def scale_points(note: str) -> int:
    """Points of the severity scale a row was rated on, as its note says: 5 where it names a 5-point scale, else
    the 4-point facial wrinkle scale."""
    return 5 if FIVE_POINT_NOTE.search(note) else 4


@dataclass(frozen=True)
class EvidenceRow:
    """One row of an arms file, parsed. ``unsupported`` says why the model predicts nothing for it."""

    line: int
    study: str
    arm: Arm | None
    endpoint: str
    day: float | None
    value: float | None
    approx: bool
    unsupported: str | None = None


def _number(text: str, path: Path, line: int, column: str, *, integer: bool = False) -> float | None:
    text = text.strip()
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise EvidenceError(f"{path.name} line {line}, column {column}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise EvidenceError(f"{path.name} line {line}, column {column}: {text!r} is not a finite number")
    if integer and value != int(value):
        raise EvidenceError(f"{path.name} line {line}, column {column}: {text!r} is not a whole number")
    return value


def read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a CSV file as text, or an :class:`EvidenceError` saying what is wrong."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = []
            for row in reader:
                if None in row:
                    raise EvidenceError(f"{path.name} line {reader.line_num}: more fields than the header has")
                rows.append({k: (v or "") for k, v in row.items()})
    except FileNotFoundError:
        raise EvidenceError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise EvidenceError(f"{path.name}: not a UTF-8 text file") from None
    except csv.Error as exc:
        raise EvidenceError(f"{path.name}: not a readable CSV file ({exc})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise EvidenceError(f"{path.name}: missing column(s) {', '.join(missing)}; expected the columns of arms.csv")
    return header, rows


def parse_rows(path: Path, rows: list[dict[str, str]], catalog: Catalog | None = None) -> list[EvidenceRow]:
    """Validate and parse the rows of an arms file (line numbers count the header as line 1). A study rates every
    row on one severity scale: the finest any of its rows' notes names sets it for all of them."""
    catalog = catalog or load_catalog()
    scale: dict[str, int] = {}
    for row in rows:
        study = row["study"].strip()
        scale[study] = max(scale.get(study, 0), scale_points(row.get("note", "")))
    parsed = []
    for i, row in enumerate(rows, start=2):
        units = _number(row["units"], path, i, "units")
        n = _number(row["n"], path, i, "n", integer=True)
        female = _number(row["female_pct"], path, i, "female_pct")
        day = _number(row["day"], path, i, "day")
        value = _number(row.get("value", ""), path, i, "value")
        approx = (row.get("approx", "").strip() or "0") == "1"
        if units is not None and units < 0:
            raise EvidenceError(f"{path.name} line {i}, column units: {units:g} is negative")
        if n is not None and n <= 0:
            raise EvidenceError(f"{path.name} line {i}, column n: {n:g} patients is not a positive count")
        if female is not None and not 0 <= female <= 100:
            raise EvidenceError(f"{path.name} line {i}, column female_pct: {female:g} is not a percent")
        endpoint = row["endpoint"].strip()
        product, area = row["product"].strip(), row["area"].strip()
        reason = None
        if endpoint not in ENDPOINTS:
            reason = f"endpoint {endpoint!r} is not modelled"
        elif product not in catalog.products:
            reason = f"product {product!r} is not in the catalogue"
        elif area not in catalog.areas:
            reason = f"area {area!r} is not in the catalogue"
        elif units is None and catalog.products[product].is_toxin:
            reason = "units are blank"
        elif ENDPOINTS[endpoint].needs_day and day is None:
            reason = f"endpoint {endpoint} needs a day"
        arm = None
        if reason is None:
            n_arm = int(n) if n is not None else None
            arm = Arm(product, area, units or 0.0, female, n_arm, scale[row["study"].strip()])
        parsed.append(EvidenceRow(i, row["study"].strip(), arm, endpoint, day, value, approx, reason))
    return parsed


def read_arms(path: Path, catalog: Catalog | None = None) -> list[EvidenceRow]:
    """Read and parse an arms file."""
    _, rows = read_table(path)
    return parse_rows(path, rows, catalog)
