"""Figures of the analytics report (matplotlib, Agg backend, PNG files next to the HTML)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from wearoff.analytics.summary import CurveGroup, Effect, ModelComparison
from wearoff.report.plots import INK, PALETTE, STYLE

matplotlib.use("Agg")

import matplotlib.pyplot as plt

__all__ = ["plot_comparison", "plot_curves", "plot_effects"]

DPI = 110


def plot_curves(groups: list[CurveGroup], title: str, path: Path, max_groups: int = 8) -> Path:
    """Turnbull curves (upper bound as a line, the band to the lower bound shaded where the NPMLE is not unique)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.2, 4.2))
        for i, g in enumerate(groups[:max_groups]):
            colour = PALETTE[i % len(PALETTE)]
            ax.fill_between(g.times, g.lower, g.upper, step="post", color=colour, alpha=0.10, linewidth=0)
            label = f"{g.label} (n={g.n}, {100 * g.share_right:.0f} % right-censored)"
            ax.step(g.times, g.upper, where="post", color=colour, linewidth=1.6, label=label)
        ax.axhline(0.5, color="#8C8C8C", linewidth=0.8, linestyle="--")
        ax.set_xlim(0, groups[0].times[-1] if groups else 300)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("days after the treatment")
        ax.set_ylabel("share not yet back at baseline")
        ax.set_title(title, loc="left", color=INK)
        ax.legend(loc="upper right")
        fig.tight_layout()
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


def plot_effects(effects: list[Effect], path: Path) -> Path:
    """Forest plot of time ratios with 95 % intervals on a log axis; weak or imprecise effects drawn hollow."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.2, 0.9 + 0.34 * len(effects)))
        y = np.arange(len(effects))[::-1]
        for yi, e in zip(y, effects, strict=True):
            faint = e.weak_evidence or e.imprecise
            colour = "#8C8C8C" if faint else PALETTE[0]
            ax.plot([e.lower, e.upper], [yi, yi], color=colour, linewidth=1.6)
            ax.plot(e.ratio, yi, "o", color=colour, markerfacecolor="white" if faint else colour, markersize=6)
        ax.axvline(1.0, color=INK, linewidth=0.8)
        ax.set_xscale("log")
        lo = min(e.lower for e in effects) if effects else 0.5
        hi = max(e.upper for e in effects) if effects else 2.0
        ticks = [t for t in (0.125, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 8.0) if lo / 1.2 <= t <= hi * 1.2]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(y)
        ax.set_yticklabels([e.label + (" (weak evidence)" if e.weak_evidence else "") for e in effects], fontsize=8)
        ax.set_title("hollow: weak evidence or imprecise", loc="left", fontsize=8, color="#5B6673")
        ax.set_xlabel("time ratio (x longer), 95 % interval")
        ax.grid(axis="y", visible=False)
        fig.tight_layout()
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path


EDGE_MARGIN = 1.08
"""Where a median the follow-up never reached is drawn: 8 % beyond the furthest value drawn, clear of it."""
EMPTY_HORIZON_DAYS = 300.0
"""The axis of a comparison with nothing finite to draw: ten months, past any glabellar wear-off."""


def plot_comparison(rows: list[ModelComparison], path: Path) -> Path:
    """Per area and product: the model's prediction of the clinic's median (its median and 90 % range, observed as
    the clinic observes) against the clinic's median wear-off day with its 95 % bootstrap interval. A median the
    follow-up never reached is drawn at the right edge as an arrow head."""
    finite = [v for r in rows for v in (r.predicted_upper90, r.clinic_upper) if np.isfinite(v)]
    edge = EDGE_MARGIN * max(finite, default=EMPTY_HORIZON_DAYS)

    def at(value: float) -> float:
        return value if np.isfinite(value) else edge

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.2, 1.0 + 0.45 * len(rows)))
        y = np.arange(len(rows))[::-1]
        for yi, r in zip(y, rows, strict=True):
            ax.plot([at(r.predicted_lower90), at(r.predicted_upper90)], [yi + 0.12] * 2, color="#B8C0CA",
                    linewidth=5, solid_capstyle="butt",
                    label="model, observed like the clinic (90 %)" if yi == y[0] else None)  # fmt: skip
            ax.plot(at(r.predicted_median), yi + 0.12, "|", color=INK, markersize=12, markeredgewidth=2,
                    label="its median" if yi == y[0] else None)  # fmt: skip
            ax.plot([at(r.clinic_lower), at(r.clinic_upper)], [yi - 0.12] * 2, color=PALETTE[1], linewidth=1.8,
                    label="clinic median (95 %)" if yi == y[0] else None)  # fmt: skip
            ax.plot(at(r.clinic_median), yi - 0.12, "o" if np.isfinite(r.clinic_median) else ">",
                    color=PALETTE[1], markersize=6)  # fmt: skip
        ax.set_yticks(y)
        ax.set_yticklabels([f"{r.area}, {r.product} {r.units:g} U (n={r.n})" for r in rows], fontsize=8)
        ax.set_xlabel("wear-off day (back at the pre-treatment severity)")
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower center", bbox_to_anchor=(0.4, 1.0), ncol=3, fontsize=7.5)
        fig.tight_layout()
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
    return path
