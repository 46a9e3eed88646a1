"""Field checks shared by the CSV import and amendments: each parser returns the clean value or raises FieldError.

Codes (sex, activity, rater, product, area) are matched exactly after stripping whitespace; a near miss gets a
"did you mean" hint. Products and areas are the catalogue's codes (:func:`wearoff.catalog.load_catalog`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from typing import Any

from wearoff.catalog import Catalog, load_catalog
from wearoff.model.treatment import MAX_ONA_EQUIVALENT_UNITS

SEXES = ("female", "male")
ACTIVITIES = ("low", "moderate", "high")
RATERS = ("clinician", "patient")
SEVERITIES = (0, 1, 2, 3)
ID_MAX = 64
"""Longest external patient or treatment id accepted (the database column width)."""
TEXT_MAX = 100
"""Longest lot number or injector name accepted (the database column width)."""
MAX_AGE_YEARS = 120
MAX_DILUTION_ML = 100.0
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FieldError(ValueError):
    """One value is not acceptable; the message says why (and, for codes, what is accepted)."""


def _hint(value: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if value.lower() in lowered:
            close = [lowered[value.lower()]]
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_code(value: str, choices: tuple[str, ...], what: str) -> str:
    """``value`` if it is one of ``choices``, else a FieldError listing them."""
    if value in choices:
        return value
    if not value:
        raise FieldError(f"{what} is missing; use one of {', '.join(choices)}")
    raise FieldError(f"{what} {value!r} is not one of {', '.join(choices)}{_hint(value, choices)}")


def parse_product(value: str, catalog: Catalog | None = None) -> str:
    """A product code of the catalogue, else a FieldError with a hint."""
    catalog = catalog or load_catalog()
    if value in catalog.products:
        return value
    if not value:
        raise FieldError("product is missing")
    for code, product in catalog.products.items():
        if value.lower() in (brand.lower() for brand in product.brands):
            raise FieldError(f"unknown product {value!r}: products are given by code; {value} is {code!r}")
    return _unknown(value, sorted(catalog.products), "product", "products")


def parse_area(value: str, catalog: Catalog | None = None) -> str:
    """An area code of the catalogue, else a FieldError with a hint."""
    catalog = catalog or load_catalog()
    if value in catalog.areas:
        return value
    if not value:
        raise FieldError("area is missing")
    return _unknown(value, sorted(catalog.areas), "area", "areas")


def _unknown(value: str, known: list[str], what: str, plural: str) -> str:
    hint = _hint(value, known)
    listing = "" if hint else f"; known {plural}: {', '.join(known)}"
    raise FieldError(f"unknown {what} {value!r}{hint}{listing}")


def parse_id(value: str, what: str) -> str:
    """A non-empty external id of at most :data:`ID_MAX` characters, returned as written (the rows' raw ids are what
    :class:`wearoff.records.csv_io._Scope` reads stored records by: an id changed here would leave them out)."""
    if not value:
        raise FieldError(f"{what} is missing")
    if len(value) > ID_MAX:
        raise FieldError(f"{what} is {len(value)} characters long; at most {ID_MAX} are accepted")
    return value


def parse_text(value: str | None, what: str, limit: int = TEXT_MAX) -> str | None:
    """An optional short text: ``None`` when blank, else at most ``limit`` characters."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > limit:
        raise FieldError(f"{what} is {len(value)} characters long; at most {limit} are accepted")
    return value


def parse_date(value: str, what: str = "date", *, today: dt.date | None = None, allow_future: bool = False) -> dt.date:
    """A YYYY-MM-DD calendar date; not after ``today`` (default: the local date) unless ``allow_future``."""
    if not value:
        raise FieldError(f"{what} is missing; write it as YYYY-MM-DD")
    if not _ISO_DATE.match(value):
        raise FieldError(f"{what} {value!r} is not a date written YYYY-MM-DD")
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        raise FieldError(f"{what} {value!r} is not a calendar date") from None
    today = today or dt.date.today()
    if not allow_future and parsed > today:
        raise FieldError(f"{what} {value} is in the future (today is {today.isoformat()})")
    return parsed


def parse_expiry(value: str | None) -> dt.date | None:
    """An optional expiry date (YYYY-MM-DD, future dates allowed): ``None`` when blank."""
    if value is None or not value.strip():
        return None
    return parse_date(value.strip(), "expiry", allow_future=True)


def parse_birth_year(value: str | int, *, today: dt.date | None = None) -> int:
    """A birth year between ``today.year - MAX_AGE_YEARS`` and ``today.year``."""
    today = today or dt.date.today()
    text = str(value).strip()
    if not text:
        raise FieldError("birth_year is missing")
    try:
        year = int(text)
    except ValueError:
        raise FieldError(f"birth_year {text!r} is not a whole number (a year such as 1980)") from None
    if not today.year - MAX_AGE_YEARS <= year <= today.year:
        raise FieldError(f"birth_year {year} is not plausible; expected {today.year - MAX_AGE_YEARS}-{today.year}")
    return year


def parse_severity(value: str | int, what: str = "severity") -> int:
    """A severity score: a whole number 0-3 (0 none, 1 mild, 2 moderate, 3 severe)."""
    text = str(value).strip()
    if not text:
        raise FieldError(f"{what} is missing; use 0, 1, 2 or 3")
    try:
        score = int(text)
    except ValueError:
        raise FieldError(f"{what} {text!r} is not a whole number 0-3") from None
    if score not in SEVERITIES:
        raise FieldError(f"{what} {score} is outside 0-3")
    return score


def _finite(value: str | float | int, what: str) -> float:
    if isinstance(value, bool):
        raise FieldError(f"{what} must be a number, not {value!r}")
    text = str(value).strip()
    if not text:
        raise FieldError(f"{what} is missing")
    try:
        number = float(text)
    except ValueError:
        raise FieldError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(number):
        raise FieldError(f"{what} {text!r} is not a finite number")
    return number


def parse_units(value: str | float | int, product: str | None, catalog: Catalog | None = None) -> float:
    """Units of ``product`` (its own units): positive (0 only for a non-toxin such as placebo), finite, and at most
    :data:`~wearoff.model.treatment.MAX_ONA_EQUIVALENT_UNITS` onabotulinumtoxinA-equivalent units. With
    ``product`` None (unknown), only a positive finite number is required."""
    catalog = catalog or load_catalog()
    units = _finite(value, "units")
    if product is None:
        if units <= 0:
            raise FieldError(f"units must be positive, not {units:g}")
        return units
    entry = catalog.products[product]
    if units < 0 or (units == 0 and entry.is_toxin):
        raise FieldError(f"units must be positive, not {units:g}")
    ona = units * entry.ona_units_per_unit.value
    if ona > MAX_ONA_EQUIVALENT_UNITS:
        raise FieldError(
            f"{units:g} U of {product} is {ona:g} onabotulinumtoxinA-equivalent units, above the "
            f"{MAX_ONA_EQUIVALENT_UNITS:g} U accepted for one area in one session; check the units"
        )
    return units


def parse_dilution(value: str | float | int | None) -> float | None:
    """Optional reconstitution volume in mL: ``None`` when blank, else positive, finite, at most 100 mL."""
    if value is None or not str(value).strip():
        return None
    ml = _finite(value, "dilution_ml")
    if not 0 < ml <= MAX_DILUTION_ML:
        raise FieldError(f"dilution_ml {ml:g} is outside (0, {MAX_DILUTION_ML:g}] mL")
    return ml


def parse_points(value: Any) -> list[dict[str, float]] | None:
    """Optional injection points: a list of ``{"x", "y", "units"}`` with finite numbers (units >= 0)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise FieldError("points must be a list of {x, y, units}")
    out = []
    for i, point in enumerate(value):
        if not isinstance(point, dict) or set(point) != {"x", "y", "units"}:
            raise FieldError(f"point {i} must have exactly the keys x, y and units")
        clean = {key: _finite(point[key], f"point {i} {key}") for key in ("x", "y", "units")}
        if clean["units"] < 0:
            raise FieldError(f"point {i} units must not be negative")
        out.append(clean)
    return out
