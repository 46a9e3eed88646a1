"""What every command shares: the consoles, one-line errors with exit code 2, progress bars, number parsing."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)

DEFAULT_EVIDENCE = Path(os.environ.get("WEAROFF_EVIDENCE", "../shared/evidence/arms.csv"))
EvidenceOption = Annotated[
    Path, typer.Option("--evidence", help="Published arms CSV (env WEAROFF_EVIDENCE).", show_default=True)
]


def fail(message: str) -> NoReturn:
    """Print a one-line error and exit with code 2 (``message`` is text, not Rich markup)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def fail_on_bad_rows(errors: Sequence[object], summary: str) -> NoReturn:
    """List every bad row of refused records (``file:line: column: message``) on stderr, then :func:`fail` with
    ``summary``."""
    for error in errors:
        err_console.print(str(error), markup=False, highlight=False, soft_wrap=True)
    fail(summary)


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
