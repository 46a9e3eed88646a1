"""The ``wearoff`` command line (Typer). Errors print one line and exit with code 2.

Commands live in :mod:`wearoff.cli.model_commands`, :mod:`wearoff.cli.records_commands` and
:mod:`wearoff.cli.clinic_commands`; importing this
package registers them on :data:`app`.
"""

from wearoff.cli import analytics_commands, clinic_commands, model_commands, records_commands, web_commands  # noqa: F401  (registers the commands)
from wearoff.cli.apps import app


def main() -> None:  # pragma: no cover - console script entry
    app()


__all__ = ["app", "main"]
