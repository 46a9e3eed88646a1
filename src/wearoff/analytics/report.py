"""The analytics report: a clinic's own outcomes as one HTML page with PNG figures beside it (no network)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from wearoff.analytics.durations import treatment_durations
from wearoff.analytics.figures import plot_comparison, plot_curves, plot_effects
from wearoff.analytics.summary import (
    FAMILY,
    MIN_EVENTS,
    MIN_ROWS,
    PREDICTIVE_DRAWS,
    RELEVANT_RATIO,
    clinic_time_ratio,
    compare_with_model,
    fit_effects,
    survival_by,
)
from wearoff.records.values import PatientHistory

__all__ = ["write_report"]

REPORT = "analytics.html"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("wearoff.analytics", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["days"] = lambda v: "not reached" if not np.isfinite(v) else f"{v:.0f}"
    env.filters["pct"] = lambda v: f"{100 * v:.0f} %"
    return env


def write_report(
    histories: Iterable[PatientHistory],
    folder: str | os.PathLike[str],
    *,
    source: str = "",
    rng: np.random.Generator | int = 0,
) -> Path:
    """Derive the durations, fit, draw and write ``folder/analytics.html`` (figures beside it); returns its path.

    ``rng`` seeds the bootstrap intervals of the clinic's medians.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    histories = list(histories)
    durations = treatment_durations(histories)
    table = durations.table
    if table.empty:
        raise ValueError(durations.none_readable())
    curves = {}
    for column, title in (("area", "by area"), ("product", "by product"), ("injector", "by injector")):
        groups = survival_by(table, column)
        figure = None
        if groups and not (column == "injector" and {g.label for g in groups} == {"unrecorded"}):
            figure = plot_curves(groups, f"Time to wear-off {title}", folder / f"curves_{column}.png").name
        curves[column] = {"title": title, "groups": groups, "figure": figure}
    fitted = fit_effects(table)
    effects_png = plot_effects(fitted.effects, folder / "effects.png").name
    comparisons, too_few = compare_with_model(table, durations.followup_days, rng=rng)
    comparison_png = plot_comparison(comparisons, folder / "comparison.png").name if comparisons else None
    level = clinic_time_ratio(histories)
    counts = table["censoring"].value_counts()
    model = fitted.model
    html = (
        _environment()
        .get_template("analytics.html")
        .render(
            source=source,
            generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            n_patients=len(histories),
            n_treatments=durations.n_treatments,
            n_rows=len(table),
            excluded=durations.excluded,
            n_interval=int(counts.get("interval", 0)),
            n_left=int(counts.get("left", 0)),
            n_right=int(counts.get("right", 0)),
            first=table["date"].min().date(),
            last=table["date"].max().date(),
            curves=curves,
            family=FAMILY,
            fitted=fitted,
            effects_png=effects_png,
            median_reference=float(np.exp(model.params_["intercept"])),
            median_reference_interval=tuple(float(v) for v in np.exp(model.confidence_intervals_.loc["intercept"])),
            scale=model.scale_,
            sigma_re=model.sigma_,
            converged=model.converged_,
            comparisons=comparisons,
            too_few=too_few,
            comparison_png=comparison_png,
            min_rows=MIN_ROWS,
            min_events=MIN_EVENTS,
            draws=PREDICTIVE_DRAWS,
            level=level,
            relevant_ratio=RELEVANT_RATIO,
        )
    )
    path = folder / REPORT
    path.write_text(html, encoding="utf-8")
    return path
