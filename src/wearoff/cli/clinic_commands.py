"""Commands of the clinic: one patient's page in the terminal, and who is due."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from wearoff.cli.apps import app, patient_app
from wearoff.cli.common import console, fail, progress_bar, user_errors
from wearoff.cli.records_commands import ClinicOption, DatabaseUrlOption, records_session

AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Date of the view (YYYY-MM-DD; default today).")]


def _as_of(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of must be a date YYYY-MM-DD, not {text!r}")


@patient_app.command("show")
def patient_show_command(
    patient_id: Annotated[str, typer.Argument(help="The clinic's patient id.")],
    clinic: ClinicOption = "default",
    as_of: AsOfOption = None,
    plot: Annotated[Path | None, typer.Option(help="Write one curve per area to FILE-AREA.png.")] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """A patient's timeline per area, the forecast of the latest treatment, its window, flags and advice."""
    from wearoff.plan.patient_plan import plan_patient
    from wearoff.records import db
    from wearoff.records.repository import patient_history

    day = _as_of(as_of)
    url = database_url or db.database_url()
    with records_session(url) as session:
        history = patient_history(session, patient_id, clinic)
    p = history.patient
    console.print(f"[bold]{p.patient_id}[/]: {p.sex}, born {p.birth_year}, {p.activity} activity (as of {day})")
    with user_errors():
        plans = plan_patient(history, day)
    for plan in plans:
        table = Table(title=plan.area, title_justify="left", show_header=True, header_style="bold")
        for column in ("date", "event", "detail"):
            table.add_column(column)
        events = [(t.date, "treatment", f"{t.product} {t.units:g} U") for t in plan.treatments]
        events += [(a.date, f"score ({a.rater})", f"severity {a.severity}") for a in plan.assessments]
        for when, what, detail in sorted(events, key=lambda e: (e[0], e[1] != "treatment")):
            table.add_row(when.isoformat(), what, detail)
        console.print(table)
        w, window = plan.forecast.wear_off_day, plan.window
        console.print(
            f"  wear-off: day {w.median:.0f} (90 %: {w.lower90:.0f}-{w.upper90:.0f}) after {plan.latest.date}; "
            f"re-book between {window.opens} and {window.closes}"
            + (" (held by the label interval)" if window.held_by_label_interval else "")
        )
        for flag in plan.flags:
            console.print(f"  [yellow]{flag.level}[/] {flag.code}: {flag.message}", highlight=False)
        console.print(f"  why (the reference patient wears off on day {plan.reference_day:.0f}):")
        for e in plan.effects:
            console.print(f"    {e.days:+.0f} days  {e.description}" + ("  [dim](weak evidence)[/]" if e.weak else ""))
        for e in plan.advice:
            console.print(
                f"  advice: {e.description}: {e.days:+.0f} days" + ("  [dim](weak evidence)[/]" if e.weak else "")
            )
        if plot is not None:
            from wearoff.report.forecast_plot import plot_forecast

            target = plot.with_name(f"{plot.stem}-{plan.area}{plot.suffix or '.png'}")
            plot_forecast(
                plan.forecast,
                target,
                scores=[(s.day, s.severity, s.rater) for s in plan.scores],
                window=plan.window_days,
                title=f"{p.patient_id}, {plan.area}: {plan.latest.product} {plan.latest.units:g} U "
                f"on {plan.latest.date}",
            )
            console.print(f"  curve written to {target}")


@app.command("due")
def due_command(
    within: Annotated[int, typer.Option("--within", min=0, help="Days ahead to look.")] = 30,
    clinic: ClinicOption = "default",
    as_of: AsOfOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Who to call: patients whose re-booking window is open or opens within the coming days."""
    from wearoff.plan.records_forecast import forecast_records
    from wearoff.records import db
    from wearoff.records.repository import clinic_histories

    day = _as_of(as_of)
    url = database_url or db.database_url()
    with records_session(url) as session:
        histories = clinic_histories(session, clinic)
    with progress_bar("forecasting patients", len(histories)) as advance, user_errors():
        rows = forecast_records(histories, day, progress=advance)
    horizon = day + dt.timedelta(days=within)
    due = sorted(
        (r for r in rows if r.window.opens <= horizon and r.window.closes >= day), key=lambda r: r.window.opens
    )
    table = Table(title=f"due between {day} and {horizon} ({len(due)})", title_justify="left", header_style="bold")
    for column in ("patient", "area", "treated", "window", "wear-off day (90 %)"):
        table.add_column(column)
    for r in due:
        w = r.forecast.wear_off_day
        table.add_row(
            r.patient_id,
            r.area,
            r.treatment_date.isoformat(),
            f"{r.window.opens} to {r.window.closes}",
            f"{w.median:.0f} ({w.lower90:.0f}-{w.upper90:.0f})",
        )
    console.print(table)
