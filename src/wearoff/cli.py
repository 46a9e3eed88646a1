"""The ``wearoff`` command line (Typer). Errors print one line and exit with code 2."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

app = typer.Typer(
    help="Predict, explain and help extend how long botulinum toxin treatments last.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
arms_app = typer.Typer(help="Published trial arms: predict arm-level outcomes.", no_args_is_help=True)
app.add_typer(arms_app, name="arms")

console = Console()
err_console = Console(stderr=True)

DEFAULT_EVIDENCE = Path(os.environ.get("WEAROFF_EVIDENCE", "../shared/evidence/arms.csv"))
EvidenceOption = Annotated[
    Path, typer.Option("--evidence", help="Published arms CSV (env WEAROFF_EVIDENCE).", show_default=True)
]


def fail(message: str) -> NoReturn:
    """Print a one-line error and exit with code 2."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the package's input errors into one-line messages with exit code 2."""
    from wearoff.catalog import CatalogError
    from wearoff.inference.evidence import EvidenceError
    from wearoff.model.treatment import TreatmentError

    try:
        yield
    except (CatalogError, EvidenceError, TreatmentError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror or exc}")


def _number(text: str, what: str, cast: Callable[[str], float] = float) -> float:
    try:
        return cast(text)
    except ValueError:
        fail(f"{what} must be a number, not {text!r}")


@app.command("forecast")
def forecast_command(
    product: Annotated[str, typer.Option(help="Product code, e.g. onabotulinumtoxinA.")],
    area: Annotated[str, typer.Option(help="Area code, e.g. glabellar.")],
    units: Annotated[str, typer.Option(help="Units in the product's own units (per side where the area says).")],
    sex: Annotated[str, typer.Option(help="female or male.")] = "female",
    age: Annotated[str | None, typer.Option(help="Age in years.")] = None,
    activity: Annotated[str, typer.Option(help="Physical activity: low, moderate or high.")] = "moderate",
    prior_treatments: Annotated[str, typer.Option(help="Earlier regular treatments of this area.")] = "0",
    baseline: Annotated[str | None, typer.Option(help="Pre-treatment severity (2 or 3), if known.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the forecast as JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write the effect curve to this PNG file.")] = None,
) -> None:
    """Forecast onset, peak and wear-off of one treatment, with 90 % intervals."""
    from wearoff.model.forecast import forecast
    from wearoff.model.treatment import Treatment

    with user_errors():
        treatment = Treatment(
            product=product,
            area=area,
            units=_number(units, "units"),
            sex=sex,  # type: ignore[arg-type]
            age=_number(age, "age") if age is not None else None,
            activity=activity,  # type: ignore[arg-type]
            prior_treatments=int(_number(prior_treatments, "prior treatments", int)),
            baseline_severity=int(_number(baseline, "baseline", int)) if baseline is not None else None,
        )
        result = forecast(treatment)
        if plot is not None:
            from wearoff.report.forecast_plot import plot_forecast

            plot_forecast(result, plot)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    from wearoff.report.text import print_forecast

    print_forecast(console, result)
    if plot is not None:
        console.print(f"curve written to {plot}")


@arms_app.command("predict")
def arms_predict(
    input_csv: Annotated[Path, typer.Argument(help="Arms CSV with the columns of arms.csv (value optional).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write IN plus predictions.")],
) -> None:
    """Predict each arm's value with the 90 % interval of what a trial of its size would observe."""
    from wearoff.inference.arms_io import predict_arms_file

    with user_errors():
        report = predict_arms_file(input_csv, output)
    console.print(f"{report.predicted} rows predicted, written to {output}")
    if report.unsupported:
        console.print(f"{len(report.unsupported)} rows left empty (not modelled):")
        for reason, count in report.reasons().items():
            console.print(f"  {count} x {reason}")


@app.command("calibrate")
def calibrate_command(
    evidence: EvidenceOption = DEFAULT_EVIDENCE,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Parameter file to write.")] = None,
    workers: Annotated[int, typer.Option(help="Processes for the gradient.")] = 2,
    loso: Annotated[bool, typer.Option(help="Also run leave-one-study-out and store it.")] = True,
) -> None:
    """Fit the population parameters to the published arms and write the parameter file the package ships."""
    from wearoff.inference.workflow import run_calibration

    with user_errors():
        run_calibration(evidence, output, workers=workers, loso=loso, console=console)


@app.command("validate")
def validate_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory for the HTML report.")],
    evidence: EvidenceOption = DEFAULT_EVIDENCE,
    refit: Annotated[bool, typer.Option(help="Recompute leave-one-study-out instead of the stored run.")] = False,
    workers: Annotated[int, typer.Option(help="Processes for refits.")] = 2,
) -> None:
    """Write the validation report: per-study plots, leave-one-study-out table, calibration plot."""
    from wearoff.report.validation import write_validation_report

    with user_errors():
        path = write_validation_report(evidence, output, refit=refit, workers=workers, console=console)
    console.print(f"report written to {path}")


def main() -> None:  # pragma: no cover - console script entry
    app()
