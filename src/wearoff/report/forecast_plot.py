"""The effect curve of a forecast as a PNG: median effect, its 90 % band, onset, peak and wear-off marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from wearoff.model.forecast import Forecast


def plot_forecast(
    f: Forecast,
    path: Path,
    *,
    scores: list[tuple[float, int, str]] | None = None,
    window: tuple[float, float] | None = None,
    title: str | None = None,
) -> Path:
    """Write the forecast's effect curve (share of the muscle's pull removed) over days to ``path``.

    ``scores`` are follow-up severities (day, severity 0-3, rater) drawn as points on a second axis;
    ``window`` shades the re-booking window (days after the treatment).
    """
    c = f.curve
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
    if window is not None:
        ax.axvspan(window[0], window[1], color="#a1d99b", alpha=0.35, label="re-booking window")
    ax.fill_between(
        c.days,
        [100 * v for v in c.lower90],
        [100 * v for v in c.upper90],
        color="#9ecae1",
        alpha=0.5,
        label="90 % of patients",
    )
    ax.plot(c.days, [100 * v for v in c.median], color="#08519c", lw=2, label="median patient")
    w = f.wear_off_day
    ax.axvspan(w.lower90, w.upper90, color="#fdd0a2", alpha=0.35, label="wear-off, 90 % interval")
    ax.axvline(w.median, color="#d94801", lw=1.5, ls="--", label=f"median wear-off, day {w.median:.0f}")
    ax.axvline(f.peak_day.median, color="#555", lw=1, ls=":", label=f"peak, day {f.peak_day.median:.0f}")
    t = f.treatment
    ax.set_title(title or f"{t.product} {t.units:g} U, {t.area} ({t.sex})", loc="left", fontsize=11)
    if scores:
        severity_axis = ax.twinx()
        for rater, marker, colour in (("clinician", "o", "#252525"), ("patient", "^", "#756bb1")):
            points = [(d, s) for d, s, r in scores if r == rater]
            if points:
                severity_axis.scatter(
                    *zip(*points, strict=True), marker=marker, color=colour, zorder=5, label=f"severity ({rater})"
                )
        severity_axis.set_ylim(3.3, -0.3)
        severity_axis.set_yticks([0, 1, 2, 3], ["none", "mild", "moderate", "severe"])
        severity_axis.spines[["top"]].set_visible(False)
        severity_axis.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_xlabel("days after injection")
    ax.set_ylabel("effect (% of the muscle's pull removed)")
    ax.set_xlim(0, max(c.days))
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.25)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
