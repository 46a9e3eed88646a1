"""The evidence page: the validation report (``wearoff validate``), rendered once in the background from the
shipped stored validation and served from a cache folder."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from wearoff.report.validation import REPORT_FILE

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.(html|png)$")


@dataclass
class EvidenceReport:
    """The report's state: ``ready``, ``running``, ``failed`` (with the reason) or ``idle``."""

    folder: Path
    evidence: Path
    state: str = "idle"
    error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def path(self) -> Path:
        return self.folder / REPORT_FILE

    def ensure(self) -> str:
        """Start rendering if the report is not there yet; the current state."""
        with self._lock:
            if self.path.exists():
                self.state = "ready"
            elif self.state in ("idle",):
                if not self.evidence.is_file():
                    self.state, self.error = (
                        "failed",
                        (f"the published evidence {self.evidence} is not there; set WEAROFF_EVIDENCE to arms.csv"),
                    )
                else:
                    self.state = "running"
                    threading.Thread(target=self._render, name="evidence-report", daemon=True).start()
            return self.state

    def _render(self) -> None:
        from rich.console import Console

        from wearoff.report.validation import write_validation_report

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_validation_report(self.evidence, self.folder, console=Console(quiet=True))
            self.state = "ready"
        except Exception as exc:  # shown on the page; the app keeps serving
            self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"

    def file(self, name: str) -> Path | None:
        """A file of the rendered report by its plain name (no folders), or None."""
        if not _SAFE_NAME.match(name):
            return None
        path = self.folder / name
        return path if path.is_file() else None
