"""The effect curve of a forecast as a PNG: median effect, its 90 % band, onset, peak and wear-off marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from wearoff.model.forecast import Forecast


def plot_forecast(f: Forecast, path: Path) -> Path:
    """Write the forecast's effect curve (share of the muscle's pull removed) over days to ``path``."""
    c = f.curve
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
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
    ax.set_title(f"{t.product} {t.units:g} U, {t.area} ({t.sex})", loc="left", fontsize=11)
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
