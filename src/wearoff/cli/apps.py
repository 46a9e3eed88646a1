"""The Typer applications: ``wearoff`` and its command groups."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Predict, explain and help extend how long botulinum toxin treatments last.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
arms_app = typer.Typer(help="Published trial arms: predict arm-level outcomes.", no_args_is_help=True)
app.add_typer(arms_app, name="arms")
simulate_app = typer.Typer(help="Synthetic clinics drawn from the model, with the truth.", no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")
db_app = typer.Typer(
    help="The clinic records database (SQLite in the user data folder, or WEAROFF_DATABASE_URL).",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
patient_app = typer.Typer(help="One patient: timeline, forecast, window, reasons.", no_args_is_help=True)
app.add_typer(patient_app, name="patient")
