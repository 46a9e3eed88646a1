"""Rendering pages: the Jinja2 environment, its filters and the context every page gets."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from wearoff import __version__
from wearoff.catalog import load_catalog
from wearoff.web.auth import csrf_token
from wearoff.web.pages.forms import take_flashes
from wearoff.web.services.assessments import SEVERITY_WORDS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DISCLAIMER = (
    "Decision support for qualified professionals. Forecasts carry their 90 % intervals and do not replace "
    "clinical judgement."
)

templates = Jinja2Templates(directory=str(TEMPLATES))


def _area_label(code: str) -> str:
    area = load_catalog().areas.get(code)
    return area.label if area else code


def _area_short(code: str) -> str:
    area = load_catalog().areas.get(code)
    return area.short_label if area else code


def _brand(code: str) -> str:
    product = load_catalog().products.get(code)
    return product.brands[0] if product is not None and product.brands else code


def _date(value: dt.date | None, style: str = "short") -> str:
    if value is None:
        return "—"
    if style == "long":
        return f"{value.day} {value:%B %Y}"
    return f"{value.day} {value:%b %Y}"


def _date_range(first: dt.date, last: dt.date) -> str:
    """``12 Oct – 16 Nov 2026``: the year once when both dates share it."""
    if first.year == last.year:
        return f"{first.day} {first:%b} – {_date(last)}"
    return f"{_date(first)} – {_date(last)}"


def _days(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.0f}"


def _signed(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    rounded = round(value)
    return f"+{rounded}" if rounded > 0 else ("±0" if rounded == 0 else f"−{abs(rounded)}")


def _weeks(days: float | None) -> str:
    if days is None or not math.isfinite(days):
        return "—"
    return f"{days / 7:.0f}"


def _units(value: float) -> str:
    return f"{value:g}"


def _tojson_script(value: Any) -> Markup:
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


env = templates.env
env.filters.update(
    area_label=_area_label,
    area_short=_area_short,
    brand=_brand,
    date=_date,
    date_range=_date_range,
    days=_days,
    signed=_signed,
    weeks=_weeks,
    units=_units,
    json_script=_tojson_script,
)
env.globals.update(version=__version__, disclaimer=DISCLAIMER, severity_words=SEVERITY_WORDS, timedelta=dt.timedelta)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page (or an HTMX fragment) with the common context: the actor, the CSRF token, today, the active nav."""
    base = {
        "request": request,
        "actor": getattr(request.state, "actor", None),
        "csrf_token": csrf_token(request),
        "today": dt.date.today(),
        "path": request.url.path,
        "flashes": take_flashes(request) if "flash" in request.session else [],
    }
    return templates.TemplateResponse(
        request, template, {**base, **(context or {})}, status_code=status_code, headers=headers
    )


TITLES = {
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    422: "Please check the input",
    429: "Too many attempts",
}


def render_error(
    request: Request, status_code: int, message: str, *, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """The error page (or, for HTMX requests, an inline error box)."""
    template = "partials/error_box.html" if request.headers.get("HX-Request") else "error.html"
    return render(
        request,
        template,
        {"status": status_code, "title": TITLES.get(status_code, "Something went wrong"), "message": message},
        status_code=status_code,
        headers=headers,
    )
