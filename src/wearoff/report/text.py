"""Plain terminal rendering of a forecast (Rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from wearoff.model.forecast import Forecast, Interval


def _days(iv: Interval | None) -> str:
    if iv is None:
        return "no response expected"
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
    back = f.none_mild_back_at_baseline_day
    table.add_row("half of none/mild patients back at baseline", f"day {back.median:.0f}" if back else "none reach it")
    console.print(table)
    if f.response_share < 0.5:
        console.print(
            f"[bold yellow]warning:[/] only {100 * f.response_share:.0f} % of patients respond at this dose "
            f"(relative dose {f.relative_dose:.2f}); a wear-off of day 0 means no visible effect."
        )
    if t.age is not None:
        console.print("[dim]Age is recorded but changes nothing: the evidence gives no age effect.[/]")
    console.print(
        "[dim]Intervals are the 90 % range between patients like this one. Decision support for qualified "
        "professionals; parameters and their sources: wearoff.data (priors.toml, parameters.json).[/]"
    )
