"""Errors of the records layer: what was wrong, where, and (in the message) what to do."""

from __future__ import annotations

from dataclasses import dataclass


class RecordsError(ValueError):
    """A records operation refused its input (unknown clinic, bad amendment, database not initialised, ...)."""


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in one row of an import folder.

    ``line`` is the 1-based physical line of the row in its file (the header is line 1); 0 means the file as a
    whole (missing, unreadable). ``column`` is the CSV column at fault, or ``""`` for the row or file as a whole.
    """

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


class RecordsImportError(RecordsError):
    """An import was refused; ``errors`` lists every problem of every bad row, in file and line order (patients,
    treatments, assessments). Nothing was stored."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = list(errors)
        rows = {(e.file, e.line) for e in self.errors}
        super().__init__(
            f"{len(rows)} bad row(s), {len(self.errors)} problem(s); nothing was imported"
            + (f" (first: {self.errors[0]})" if self.errors else "")
        )

    @property
    def bad_rows(self) -> int:
        """How many distinct rows (or files) have at least one problem."""
        return len({(e.file, e.line) for e in self.errors})
