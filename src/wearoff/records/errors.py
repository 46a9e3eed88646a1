"""Errors of the records layer: what was wrong, where, and (in the message) what to do."""

from __future__ import annotations

from dataclasses import dataclass, field

SHOWN_PROBLEMS = 200
"""Problems of a refused import listed in the answer (the rest are counted): enough to fix a file in one pass."""


class RecordsError(ValueError):
    """A records operation refused its input (unknown clinic, bad amendment, database not initialised, ...)."""


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in one row of an import folder (or one entry of a FHIR Bundle).

    ``line`` is the 1-based physical line of the row in its file (the header is line 1); 0 means the file as a
    whole (missing, unreadable). ``column`` is the CSV column at fault, or ``""`` for the row or file as a whole.
    For a FHIR Bundle, ``entry`` is the 0-based index of the Bundle entry (shown as ``bundle.json:entry[12]``),
    ``line`` is ``entry + 1`` and ``column`` names the records field at fault (or, for a problem of the entry
    itself, its FHIR element: ``status``, ``fullUrl``, ``modifierExtension``; see :mod:`wearoff.records.fhir_io`).
    """

    file: str
    line: int
    column: str
    message: str
    entry: int | None = field(default=None, compare=False)

    def __str__(self) -> str:
        if self.entry is not None:
            where = f"{self.file}:entry[{self.entry}]"
        else:
            where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


class RecordsImportError(RecordsError):
    """An import was refused; ``errors`` lists every problem of every bad row, in file and line order (patients,
    treatments, assessments; for a FHIR Bundle, in entry order). Nothing was stored."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = list(errors)
        super().__init__(
            f"{self.summary()}; nothing was imported" + (f" (first: {self.errors[0]})" if self.errors else "")
        )

    def summary(self, where: object = None) -> str:
        """What was refused, in a phrase: ``3 bad row(s) in WHERE, 4 problem(s)`` (``bad entries`` for a FHIR
        Bundle; without ``in WHERE`` when ``where`` is None)."""
        rows = self.bad_rows
        if any(e.entry is not None for e in self.errors):
            what = f"{rows} bad {'entry' if rows == 1 else 'entries'}"
        else:
            what = f"{rows} bad row(s)"
        place = f" in {where}" if where is not None else ""
        return f"{what}{place}, {len(self.errors)} problem(s)"

    @property
    def bad_rows(self) -> int:
        """How many distinct rows (or files) have at least one problem."""
        return len({(e.file, e.line) for e in self.errors})
