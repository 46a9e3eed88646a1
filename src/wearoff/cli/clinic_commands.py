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
    from wearoff.model.forecast import forecast
    from wearoff.plan.explain import advise, explain
    from wearoff.plan.guards import antibody_suspicion, check_treatment
    from wearoff.plan.history import courses_as_of
    from wearoff.plan.window import rebook_window
    from wearoff.records import db
    from wearoff.records.repository import patient_history

    day = _as_of(as_of)
    url = database_url or db.database_url()
    with records_session(url) as session:
        history = patient_history(session, patient_id, clinic)
    p = history.patient
    console.print(f"[bold]{p.patient_id}[/]: {p.sex}, born {p.birth_year}, {p.activity} activity (as of {day})")
    every = [t for area in history.areas.values() for t in area.treatments if t.date <= day]
    with user_errors():
        for course in courses_as_of(history, day):
            area = history.areas[course.treatment.area]
            f = forecast(course.treatment, history=course.history)
            window = rebook_window(course.latest.date, f)
            table = Table(title=f"{area.area}", title_justify="left", show_header=True, header_style="bold")
            for column in ("date", "event", "detail"):
                table.add_column(column)
            events = [(t.date, "treatment", f"{t.product} {t.units:g} U") for t in area.treatments if t.date <= day]
            events += [
                (a.date, f"score ({a.rater})", f"severity {a.severity}") for a in area.assessments if a.date <= day
            ]
            for when, what, detail in sorted(events, key=lambda e: (e[0], e[1] != "treatment")):
                table.add_row(when.isoformat(), what, detail)
            console.print(table)
            w = f.wear_off_day
            console.print(
                f"  wear-off: day {w.median:.0f} (90 %: {w.lower90:.0f}-{w.upper90:.0f}) after {course.latest.date}; "
                f"re-book between {window.opens} and {window.closes}"
                + (" (held by the label interval)" if window.held_by_label_interval else "")
            )
            proposed = type(course.latest)(
                course.latest.treatment_id + "-next",
                window.opens,
                course.latest.product,
                course.latest.area,
                course.latest.units,
            )
            flags = check_treatment(proposed, p.sex, every)
            suspicion = antibody_suspicion(area.treatments, area.assessments, course.treatment.baseline_severity)
            for flag in [*flags, *([suspicion] if suspicion else [])]:
                console.print(f"  [yellow]{flag.level}[/] {flag.code}: {flag.message}", highlight=False)
            _, reference, effects = explain(course.treatment, course.history)
            console.print(f"  why (the reference patient wears off on day {reference:.0f}):")
            for e in effects:
                console.print(
                    f"    {e.days:+.0f} days  {e.description}" + ("  [dim](weak evidence)[/]" if e.weak else "")
                )
            for e in advise(course.treatment, course.history):
                console.print(
                    f"  advice: {e.description}: {e.days:+.0f} days" + ("  [dim](weak evidence)[/]" if e.weak else "")
                )
            if plot is not None:
                from wearoff.report.forecast_plot import plot_forecast

                scores = [
                    (float((a.date - course.latest.date).days), a.severity, a.rater)
                    for a in area.assessments
                    if course.latest.date < a.date <= day
                ]
                target = plot.with_name(f"{plot.stem}-{area.area}{plot.suffix or '.png'}")
                plot_forecast(
                    f,
                    target,
                    scores=scores,
                    window=((window.opens - course.latest.date).days, (window.closes - course.latest.date).days),
                    title=f"{p.patient_id}, {area.area}: {course.latest.product} {course.latest.units:g} U "
                    f"on {course.latest.date}",
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
