"""What every command shares: the consoles, one-line errors with exit code 2, progress bars, number parsing."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from wearoff.records.errors import RecordsImportError

console = Console()
err_console = Console(stderr=True)

DEFAULT_EVIDENCE = Path(os.environ.get("WEAROFF_EVIDENCE", "../shared/evidence/arms.csv"))
EvidenceOption = Annotated[
    Path, typer.Option("--evidence", help="Published arms CSV (env WEAROFF_EVIDENCE).", show_default=True)
]


def fail(message: str) -> NoReturn:
    """Print a one-line error and exit with code 2 (``message`` is text, not Rich markup)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True, emoji=False)
    raise typer.Exit(2)


def fail_on_bad_rows(exc: RecordsImportError, where: object, not_done: str) -> NoReturn:
    """List the problems of refused records on stderr, one a line (``file:line: column: message``), at most
    :data:`~wearoff.records.errors.SHOWN_PROBLEMS` of them and then how many more; then :func:`fail` in one line:
    how many bad rows ``where``, what was ``not_done`` (``"nothing was imported"``) and what to do."""
    from wearoff.records.errors import SHOWN_PROBLEMS

    for error in exc.errors[:SHOWN_PROBLEMS]:
        err_console.print(str(error), markup=False, emoji=False, highlight=False, soft_wrap=True)
    if len(exc.errors) > SHOWN_PROBLEMS:
        err_console.print(f"and {len(exc.errors) - SHOWN_PROBLEMS} more problem(s)", markup=False, highlight=False)
    fail(f"{exc.summary(where)}; {not_done}; fix the rows listed and run again")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the package's input errors into one-line messages with exit code 2."""
    from wearoff.catalog import CatalogError
    from wearoff.inference.errors import EvidenceError
    from wearoff.model.treatment import TreatmentError

    try:
        yield
    except (CatalogError, EvidenceError, TreatmentError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror or exc}")


def parse_number(text: str, what: str, cast: Callable[[str], float] = float) -> float:
    try:
        return cast(text)
    except ValueError:
        fail(f"{what} must be a number, not {text!r}")


def rich_progress() -> Any:
    """A transient Rich progress display on stderr (description, bar, count, elapsed time)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar on stderr; yields a function that advances it."""
    with rich_progress() as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)
