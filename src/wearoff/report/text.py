"""Plain terminal rendering of a forecast (Rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from wearoff.model.forecast import Forecast, Interval


def _days(iv: Interval) -> str:
    return f"day {iv.median:.0f}  (90 %: {iv.lower90:.0f}-{iv.upper90:.0f})"


def _weeks(iv: Interval) -> str:
    return f"week {iv.median / 7:.1f}  (90 %: {iv.lower90 / 7:.1f}-{iv.upper90 / 7:.1f})"


def print_forecast(console: Console, f: Forecast) -> None:
    """Print a forecast as a small table with its intervals."""
    t = f.treatment
    title = f"{t.product} {t.units:g} U, {t.area}, {t.sex}, activity {t.activity}"
    if t.prior_treatments:
        title += f", {t.prior_treatments} earlier treatments"
    table = Table(title=title, show_header=True, header_style="bold", title_justify="left")
    table.add_column("")
    table.add_column("forecast")
    table.add_row("relative dose", f"{f.relative_dose:.2f} x the area's reference dose")
    table.add_row("patients who respond", f"{100 * f.response_share:.0f} %")
    table.add_row("none or mild at peak", f"{100 * f.none_mild_at_peak:.0f} % (investigator-rated)")
    table.add_row("onset", _days(f.onset_day))
    table.add_row("peak", _days(f.peak_day))
    table.add_row("still none/mild until", _weeks(f.none_mild_until_day))
    table.add_row("wear-off (back at baseline)", _weeks(f.wear_off_day))
    table.add_row("half of none/mild patients back at baseline", f"day {f.none_mild_back_at_baseline_day.median:.0f}")
    console.print(table)
    console.print(
        "[dim]Intervals are the 90 % range between patients like this one. Decision support for qualified "
        "professionals; parameters and their sources: wearoff.data (priors.toml, parameters.json).[/]"
    )
