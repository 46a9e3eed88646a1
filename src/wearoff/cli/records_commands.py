"""Commands of the clinic records: the database, CSV exchange and forecasts for a clinic's patients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from wearoff.records.csv_io import ImportReport

from wearoff.cli.apps import app, db_app
from wearoff.cli.common import console, err_console, fail, fail_on_bad_rows, progress_bar, rich_progress, user_errors

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL of the records database (default: env WEAROFF_DATABASE_URL, else wearoff.db in the "
        "user data folder).",
        show_default=False,
    ),
]
ClinicOption = Annotated[str, typer.Option("--clinic", help="The clinic the patient and treatment ids belong to.")]


def _folder_or_fhir(folder: Path | None, fhir: Path | None, verb: str) -> None:
    """Exactly one of the records folder and ``--fhir FILE``, else a one-line error (exit code 2)."""
    if folder is not None and fhir is not None:
        fail(f"give either a records FOLDER or --fhir FILE to {verb}, not both")
    if folder is None and fhir is None:
        fail(f"give the records FOLDER to {verb} (patients.csv, treatments.csv, assessments.csv), or --fhir FILE")


@contextmanager
def records_errors(url: str) -> Iterator[None]:
    """Turn records and database errors into one-line messages with exit code 2 (passwords masked)."""
    from sqlalchemy.exc import SQLAlchemyError

    from wearoff.records import RecordsError, RecordsImportError
    from wearoff.records.db import mask_url

    try:
        yield
    except RecordsImportError:
        raise  # the command lists every bad row itself
    except RecordsError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip()
        fail(f"database {mask_url(url)}: {cause.splitlines()[0] if cause else type(exc).__name__}")
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror or exc}")


@contextmanager
def _records_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A transient Rich progress bar on stderr when it is a terminal; yields ``progress(task, done, total)``."""
    if not err_console.is_terminal:
        yield lambda task, done, total: None
        return
    with rich_progress() as bar:
        tasks: dict[str, object] = {}

        def progress(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=total)
            bar.update(tasks[task], completed=done, total=total)  # type: ignore[arg-type]

        yield progress


@contextmanager
def records_session(url: str) -> Iterator[Session]:
    """A session on the records database at ``url`` in one transaction, after checking its schema is current;
    the engine is disposed afterwards. Errors become one-line messages (:func:`records_errors`)."""
    from wearoff.records import db

    with records_errors(url):
        engine = db.make_engine(url)
        try:
            db.check_schema(engine)
            with db.session_scope(engine) as session:
                yield session
        finally:
            engine.dispose()


def _migrate(database_url: str | None) -> None:
    from wearoff.records import db

    url = database_url or db.database_url()
    with records_errors(url):
        before = db.current_revision(url)
        after = db.upgrade(url)
    if before == after:
        console.print(f"records database {db.mask_url(url)} is at the latest schema ({after})", highlight=False)
    else:
        console.print(
            f"records database {db.mask_url(url)} migrated from {before or 'empty'} to {after}", highlight=False
        )


@db_app.command("init")
def db_init_command(database_url: DatabaseUrlOption = None) -> None:
    """Create the records tables (runs every migration; a database already set up is left as it is)."""
    _migrate(database_url)


@db_app.command("upgrade")
def db_upgrade_command(database_url: DatabaseUrlOption = None) -> None:
    """Bring the records database to the latest schema (run after installing a new wearoff)."""
    _migrate(database_url)


def _audit_import(session: Session, report: ImportReport, form: str) -> None:
    """The audit row of a command-line import, in the import's own transaction (stored exactly when it is): who
    is the operating-system user, as ``cli:NAME``."""
    import getpass

    from wearoff.records.audit import record_import

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = "unknown"
    record_import(session, report, form, str(report.folder), f"cli:{user}")


@app.command("import")
def import_command(
    folder: Annotated[
        Path | None,
        typer.Argument(help="Folder with patients.csv, treatments.csv and assessments.csv.", show_default=False),
    ] = None,
    fhir: Annotated[
        Path | None,
        typer.Option("--fhir", metavar="FILE", help="Import this FHIR R4B Bundle (JSON) instead of a folder."),
    ] = None,
    clinic: ClinicOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Import a records folder (or a FHIR Bundle with --fhir), all or nothing: any bad row or Bundle entry is
    reported (where, the field, why), nothing stored."""
    _folder_or_fhir(folder, fhir, "import")
    from wearoff.records import RecordsImportError, csv_io, db, fhir_io

    url = database_url or db.database_url()
    try:
        with _records_progress() as progress, records_session(url) as session:
            if fhir is not None:
                report = fhir_io.import_fhir(session, fhir, clinic, progress=progress)
            else:
                report = csv_io.import_folder(session, folder, clinic, progress=progress)
            if report.changed:
                _audit_import(session, report, "fhir" if fhir is not None else "csv")
    except RecordsImportError as exc:
        fail_on_bad_rows(exc, fhir if fhir is not None else folder, "nothing was imported")
    for warning in report.warnings:
        err_console.print(f"warning: {warning}", markup=False, emoji=False, highlight=False, soft_wrap=True)
    console.print(report.summary(), markup=False, highlight=False, soft_wrap=True)


@app.command("export")
def export_command(
    folder: Annotated[
        Path | None,
        typer.Argument(help="Folder to write patients.csv, treatments.csv, assessments.csv to.", show_default=False),
    ] = None,
    fhir: Annotated[
        Path | None,
        typer.Option("--fhir", metavar="FILE", help="Write a FHIR R4B Bundle (JSON) to FILE instead of a folder."),
    ] = None,
    clinic: ClinicOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Export a clinic's records as CSV in the import contract, or as a FHIR Bundle with --fhir (voided records
    left out)."""
    _folder_or_fhir(folder, fhir, "export to")
    from wearoff.records import csv_io, db, fhir_io

    url = database_url or db.database_url()
    with _records_progress() as progress, records_session(url) as session:
        if fhir is not None:
            report = fhir_io.export_fhir(session, fhir, clinic, progress=progress)
        else:
            report = csv_io.export_folder(session, folder, clinic, progress=progress)
    console.print(
        f"exported {report.patients} patients, {report.treatments} treatments and {report.assessments} assessments "
        f"of clinic {clinic!r} to {report.folder}{' (FHIR R4B Bundle)' if fhir is not None else ''}",
        markup=False,
        highlight=False,
    )


@app.command("forecast-records")
def forecast_records_command(
    folder: Annotated[Path, typer.Argument(help="Records folder (patients.csv, treatments.csv, assessments.csv).")],
    as_of: Annotated[str, typer.Option("--as-of", help="Forecast as of this date (YYYY-MM-DD).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file to write.")],
    population_only: Annotated[
        bool, typer.Option("--population-only", help="Ignore each patient's own history (the baseline).")
    ] = False,
) -> None:
    """Forecast the latest treatment of every patient and area, using only records dated on or before --as-of."""
    import csv
    import datetime as dt
    import gc

    from wearoff.plan.records_forecast import CSV_COLUMNS, forecast_records
    from wearoff.records.csv_io import read_folder
    from wearoff.records.errors import RecordsError, RecordsImportError

    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        fail(f"--as-of must be a date YYYY-MM-DD, not {as_of!r}")
    try:
        histories = read_folder(folder)
    except RecordsImportError as exc:
        fail_on_bad_rows(exc, folder, "nothing forecast")
    except RecordsError as exc:
        fail(str(exc))
    gc.freeze()  # the records stay alive to the end: keep the collector from rescanning them while forecasting
    with progress_bar("forecasting patients", len(histories)) as advance, user_errors():
        rows = forecast_records(histories, day, population_only=population_only, progress=advance)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(r.csv_row() for r in rows)
    kind = "population" if population_only else "personal"
    console.print(f"{len(rows)} {kind} forecasts ({len(histories)} patients) written to {output}")
