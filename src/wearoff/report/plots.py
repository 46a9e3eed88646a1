"""Figures of the validation report, drawn with matplotlib on the Agg backend (no display needed).

* :func:`plot_study`: one figure per study: the observed responder rates of each arm with their 90 %
  binomial (Clopper-Pearson) intervals against the predicted curve and its 90 % band, one panel per
  endpoint code; the study's day values (durations, onset days) in a strip below, observed against the
  in-sample and the held-out prediction with their 90 % intervals.
* :func:`plot_calibration`: held-out predictions against the observed values of all studies.

Hollow markers are approximate values (read off a graph).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter
from scipy.stats import beta

from wearoff.inference.calibrate import RowPrediction
from wearoff.inference.evidence import EvidenceRow
from wearoff.model.arms import Arm, predict_arms
from wearoff.model.endpoints import ENDPOINTS
from wearoff.model.parameters import Parameters

matplotlib.use("Agg")

import matplotlib.pyplot as plt

PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD")
"""Muted qualitative colours, one per arm of a study."""
INK = "#2F3B4A"
IN_SAMPLE = "#4C72B0"
HELD_OUT = "#DD8452"
MISS = "#C44E52"
BAND_ALPHA = 0.14
FIG_WIDTH = 10.0
DPI = 150
MIN_CURVE_DAYS = 200.0
MIN_ONSET_DAYS = 30.0
CURVE_STRETCH = 1.3
LEVEL = 0.90
DODGE = 0.008
"""Sideways spread of arms observed on the same day, as a share of the panel's day range."""

STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlecolor": INK,
    "axes.labelcolor": "#4A5563",
    "axes.edgecolor": "#A7B0BA",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E7EAEE",
    "grid.linewidth": 0.7,
    "xtick.color": "#5B6673",
    "ytick.color": "#5B6673",
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}

ONSET_CODES = frozenset(code for code in ENDPOINTS if "onset" in code)


def clopper_pearson(percent: float, n: int | None, level: float = LEVEL) -> tuple[float, float] | None:
    """Exact binomial interval (in percent) of an observed share of *n* patients; None without *n*."""
    if n is None or n <= 0:
        return None
    k = min(max(round(percent / 100.0 * n), 0), n)
    tail = (1.0 - level) / 2.0
    lower = 0.0 if k == 0 else float(beta.ppf(tail, k, n - k + 1))
    upper = 1.0 if k == n else float(beta.ppf(1.0 - tail, k + 1, n - k))
    return 100.0 * lower, 100.0 * upper


def _units(units: float) -> str:
    return f"{units:g} U"


def arm_labels(arms: Iterable[Arm]) -> dict[Arm, str]:
    """A short label per arm (``abobotulinumtoxinA 50 U``), made longer only where two arms would share one
    (``onabotulinumtoxinA 20 U, glabellar (n=48)``)."""
    arms = list(dict.fromkeys(arms))
    areas = {a.area for a in arms}

    def base(arm: Arm) -> str:
        text = "placebo" if arm.product == "placebo" else f"{arm.product} {_units(arm.units)}"
        return f"{text}, {arm.area}" if len(areas) > 1 else text

    def label(arm: Arm, extras: list[str]) -> str:
        return f"{base(arm)} ({', '.join(extras)})" if extras else base(arm)

    extras: dict[Arm, list[str]] = {a: [] for a in arms}
    for extra in (
        lambda a: f"{a.female_pct:g} % women" if a.female_pct is not None else "",
        lambda a: f"n={a.n}" if a.n is not None else "",
    ):
        counts = Counter(label(a, extras[a]) for a in arms)
        for a in arms:
            if counts[label(a, extras[a])] > 1 and extra(a):
                extras[a] = [*extras[a], extra(a)]
    return {a: label(a, extras[a]) for a in arms}


def is_curve_row(row: EvidenceRow) -> bool:
    """Whether a row is drawn on a curve panel (a percent endpoint measured on a day)."""
    return ENDPOINTS[row.endpoint].unit == "percent" and row.day is not None


def curve_days(max_day: float, onset: bool = False) -> np.ndarray:
    """Days the predicted curve is evaluated at: dense over the first two weeks, where it changes fastest."""
    if onset:
        end = max(MIN_ONSET_DAYS, CURVE_STRETCH * max_day)
        return np.linspace(0.0, end, 61)
    end = max(MIN_CURVE_DAYS, CURVE_STRETCH * max_day)
    return np.unique(np.concatenate([np.arange(0.0, 15.0), np.linspace(15.0, end, 50)]))


def legend_columns(handles: Sequence, width: float = FIG_WIDTH, most: int = 4) -> int:
    """Columns of a figure-wide legend such that its widest entries still fit across the figure."""
    char = 0.6 * STYLE["legend.fontsize"] / 72.0  # inches per character, roughly
    widest = max(len(h.get_label()) for h in handles) * char + 0.75  # handle, padding and column spacing
    return max(1, min(most, len(handles), int((width - 0.3) // widest)))


def _marker(approx: bool, color: str, size: float = 6.0) -> dict:
    return {
        "marker": "o",
        "markersize": size,
        "markeredgecolor": color,
        "markeredgewidth": 1.4,
        "markerfacecolor": "white" if approx else color,
    }


def _log_ticks(ax: plt.Axes, low: float, high: float, axis: str = "x") -> None:
    ticks = [t for t in (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000) if low <= t <= high]
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(FixedLocator(ticks))
    target.set_major_formatter(ScalarFormatter())
    target.set_minor_locator(NullLocator())
    target.set_minor_formatter(NullFormatter())


def _curve_panel(
    ax: plt.Axes,
    code: str,
    rows: Sequence[RowPrediction],
    curves: Mapping[Arm, tuple],
    colors: Mapping[Arm, str],
    xmax: float,
) -> None:
    for arm, (days, pred, lower, upper) in curves.items():
        ax.fill_between(days, lower, upper, color=colors[arm], alpha=BAND_ALPHA, linewidth=0)
        ax.plot(days, pred, color=colors[arm], linewidth=1.8)
    # values observed on the same day are spread a little sideways so their bars stay apart
    same_day: dict[float, list[int]] = {}
    for h in rows:
        same_day.setdefault(h.row.day or 0.0, []).append(h.row.line)
    step = DODGE * xmax
    for h in rows:
        arm, value, day = h.row.arm, h.row.value, h.row.day
        assert arm is not None and value is not None and day is not None
        group = same_day[day]
        x = day + (group.index(h.row.line) - (len(group) - 1) / 2) * step
        ci = clopper_pearson(value, arm.n)
        if ci is not None:
            ax.errorbar(
                [x],
                [value],
                yerr=[[value - ci[0]], [ci[1] - value]],
                fmt="none",
                ecolor=colors[arm],
                elinewidth=1.2,
                capsize=2.5,
                zorder=4,
            )
        ax.plot([x], [value], linestyle="none", zorder=5, **_marker(h.row.approx, colors[arm]))
    ax.set_title(code, loc="left", family="monospace")
    ax.set_xlim(0, xmax)
    ax.set_ylim(-2, 102)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.set_xlabel("days after injection")
    ax.set_ylabel("% of maximal effect" if code == "pct_of_max_effect" else "% of patients")


def _day_panel(
    ax: plt.Axes, rows: Sequence[RowPrediction], held_out: Mapping[int, RowPrediction], labels: Mapping[Arm, str]
) -> None:
    values: list[float] = []
    for i, h in enumerate(rows):
        row = h.row
        assert row.arm is not None and row.value is not None
        values.append(row.value)
        for pred, offset, color in ((h, -0.22, IN_SAMPLE), (held_out.get(row.line), 0.22, HELD_OUT)):
            if pred is None or not math.isfinite(pred.predicted):
                continue
            ax.plot(
                [pred.lower90, pred.upper90],
                [i + offset] * 2,
                color=color,
                linewidth=2.2,
                alpha=0.55,
                solid_capstyle="butt",
            )
            ax.plot([pred.predicted], [i + offset], marker="D", markersize=5, color=color, linestyle="none")
            values += [pred.lower90, pred.upper90]
        ax.plot([row.value], [i], linestyle="none", zorder=5, **_marker(row.approx, INK, 7.0))
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{labels[h.row.arm]}  ·  {h.row.endpoint}" for h in rows])  # type: ignore[index]
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    positive = [v for v in values if math.isfinite(v) and v > 0] or [1.0]
    low, high = min(positive), max(positive)
    if high / low > 6:
        ax.set_xscale("log")
        ax.set_xlim(low / 1.4, high * 1.4)
        _log_ticks(ax, low / 1.4, high * 1.4)
    else:
        pad = 0.08 * (high - low) + 1.0
        ax.set_xlim(max(0.0, low - pad), high + pad)
    ax.set_xlabel("days")
    ax.set_title("day values (durations, onset)", loc="left")
    handles = [
        Line2D([], [], linestyle="none", **_marker(False, INK, 7.0), label="observed"),
        Line2D(
            [],
            [],
            color=IN_SAMPLE,
            marker="D",
            markersize=5,
            linewidth=2.2,
            alpha=0.8,
            label="in-sample prediction, 90 % interval",
        ),
        Line2D(
            [],
            [],
            color=HELD_OUT,
            marker="D",
            markersize=5,
            linewidth=2.2,
            alpha=0.8,
            label="held-out prediction, 90 % interval",
        ),
    ]
    if any(h.row.approx for h in rows):
        handles.append(Line2D([], [], linestyle="none", **_marker(True, INK, 7.0), label="approximate value"))
    ax.figure.legend(handles=handles, loc="outside lower center", ncol=len(handles))


def plot_study(
    study: str,
    in_sample: Sequence[RowPrediction],
    held_out: Mapping[int, RowPrediction],
    params: Parameters,
    path: Path,
) -> None:
    """One study's figure (see the module docstring); ``held_out`` maps evidence line numbers to predictions."""
    curve_rows = [h for h in in_sample if is_curve_row(h.row)]
    day_rows = [h for h in in_sample if not is_curve_row(h.row)]
    if not curve_rows and not day_rows:
        raise ValueError(f"study {study} has no predicted rows to plot")
    arms = [h.row.arm for h in in_sample if h.row.arm is not None]
    labels = arm_labels(arms)
    colors = {arm: PALETTE[i % len(PALETTE)] for i, arm in enumerate(labels)}
    codes = list(dict.fromkeys(h.row.endpoint for h in curve_rows))

    # predicted curves: one predict_arms call for every (arm, endpoint) series of the study
    series = list(dict.fromkeys((h.row.arm, h.row.endpoint) for h in curve_rows))
    spans = {}
    for code in codes:
        max_day = max(h.row.day or 0.0 for h in curve_rows if h.row.endpoint == code)
        spans[code] = curve_days(max_day, onset=code in ONSET_CODES)
    batch_arms, batch_codes, batch_days = [], [], []
    for arm, code in series:
        batch_arms += [arm] * len(spans[code])
        batch_codes += [code] * len(spans[code])
        batch_days += [float(d) for d in spans[code]]
    preds = predict_arms(params, batch_arms, batch_codes, batch_days)
    curves: dict[str, dict[Arm, tuple]] = {code: {} for code in codes}
    start = 0
    for arm, code in series:
        chunk = preds[start : start + len(spans[code])]
        start += len(chunk)
        curves[code][arm] = (
            spans[code],
            np.array([p.predicted for p in chunk]),
            np.array([p.lower90 for p in chunk]),
            np.array([p.upper90 for p in chunk]),
        )

    ncols = min(len(codes), 3)
    curve_height = 3.1 * math.ceil(len(codes) / 3) + 0.6 if codes else 0.0
    day_height = 1.45 + 0.36 * len(day_rows) if day_rows else 0.0
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(FIG_WIDTH, curve_height + day_height), layout="constrained")
        if codes and day_rows:
            top, bottom = fig.subfigures(2, 1, height_ratios=[curve_height, day_height], hspace=0.04)
        else:
            top = bottom = fig
        if codes:
            axes = top.subplots(math.ceil(len(codes) / 3), ncols, squeeze=False)
            for i, ax in enumerate(axes.flat):
                if i >= len(codes):
                    ax.set_visible(False)
                    continue
                code = codes[i]
                _curve_panel(
                    ax,
                    code,
                    [h for h in curve_rows if h.row.endpoint == code],
                    curves[code],
                    colors,
                    float(spans[code][-1]),
                )
            curve_arms = list(dict.fromkeys(arm for arm, _ in series))
            handles = [
                Line2D([], [], color=colors[a], linewidth=1.8, label=labels[a], **_marker(False, colors[a], 5))
                for a in curve_arms
            ]
            handles.append(Patch(facecolor="#8C8C8C", alpha=0.3, label="predicted 90 % interval"))
            if any(h.row.approx for h in curve_rows):
                handles.append(Line2D([], [], linestyle="none", **_marker(True, INK, 5), label="approximate value"))
            top.legend(handles=handles, loc="outside upper center", ncol=legend_columns(handles))
        if day_rows:
            _day_panel(bottom.subplots(), day_rows, held_out, labels)
        fig.savefig(path, dpi=DPI)
        plt.close(fig)


def plot_calibration(held_out: Sequence[RowPrediction], path: Path) -> None:
    """Held-out prediction (with its 90 % interval) against the observed value: percent rows, then day rows."""
    finite = [h for h in held_out if h.row.value is not None and math.isfinite(h.predicted)]
    percent = [h for h in finite if ENDPOINTS[h.row.endpoint].unit == "percent"]
    days = [h for h in finite if ENDPOINTS[h.row.endpoint].unit == "days"]
    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=(FIG_WIDTH, 5.0), layout="constrained")
        _calibration_panel(left, percent, log=False)
        _calibration_panel(right, days, log=True)
        handles = [
            Line2D(
                [],
                [],
                color=IN_SAMPLE,
                marker="o",
                markersize=5,
                linewidth=1.2,
                label="90 % interval covers the observed value",
            ),
            Line2D([], [], color=MISS, marker="o", markersize=5, linewidth=1.2, label="interval misses"),
            Line2D([], [], linestyle="none", **_marker(True, INK, 5), label="approximate value"),
            Line2D([], [], linestyle="none", marker="^", markersize=6, color=INK, label="onset endpoint"),
            Line2D([], [], color="#9AA3AD", linestyle="--", linewidth=1, label="prediction = observation"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncol=5)
        fig.savefig(path, dpi=DPI)
        plt.close(fig)


def _covers(h: RowPrediction) -> bool:
    return h.row.value is not None and bool(h.lower90 <= h.row.value <= h.upper90)


def _calibration_panel(ax: plt.Axes, rows: Sequence[RowPrediction], *, log: bool) -> None:
    kind = "durations and onset days" if log else "responder rates"
    covered = sum(_covers(h) for h in rows)
    title = f"{kind}: {covered}/{len(rows)} intervals cover" if rows else f"{kind}: no rows"
    ax.set_title(title, loc="left")
    if log:
        ax.set_xlabel("observed (days)")
        ax.set_ylabel("held-out prediction (days)")
    else:
        ax.set_xlabel("observed (% of patients)")
        ax.set_ylabel("held-out prediction (% of patients)")
    if not rows:
        ax.text(0.5, 0.5, "nothing to show", transform=ax.transAxes, ha="center", color="#8C8C8C")
        return
    for h in rows:
        value = h.row.value
        assert value is not None
        color = IN_SAMPLE if _covers(h) else MISS
        ax.plot([value, value], [h.lower90, h.upper90], color=color, linewidth=1.1, alpha=0.45)
        marker = _marker(h.row.approx, color, 5.0)
        if h.row.endpoint in ONSET_CODES:
            marker["marker"] = "^"
        ax.plot([value], [h.predicted], linestyle="none", zorder=5, **marker)
    if log:
        values = [v for h in rows for v in (h.row.value, h.lower90, h.upper90, h.predicted) if v and v > 0]
        low, high = min(values) / 1.3, max(values) * 1.3
        ax.set_xscale("log")
        ax.set_yscale("log")
        _log_ticks(ax, low, high, "x")
        _log_ticks(ax, low, high, "y")
    else:
        low, high = -2.0, 102.0
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_yticks([0, 25, 50, 75, 100])
    ax.plot([low, high], [low, high], color="#9AA3AD", linestyle="--", linewidth=1, zorder=1)
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_aspect("equal")
