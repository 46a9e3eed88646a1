"""Commands of the model: forecasts, published arms, calibration, validation and simulated clinics."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from wearoff.cli.apps import app, arms_app, simulate_app
from wearoff.cli.common import (
    DEFAULT_EVIDENCE,
    EvidenceOption,
    console,
    parse_number,
    progress_bar,
    user_errors,
)


@app.command("forecast")
def forecast_command(
    product: Annotated[str, typer.Option(help="Product code, e.g. onabotulinumtoxinA.")],
    area: Annotated[str, typer.Option(help="Area code, e.g. glabellar.")],
    units: Annotated[str, typer.Option(help="Units in the product's own units (per side where the area says).")],
    sex: Annotated[str, typer.Option(help="female or male.")] = "female",
    age: Annotated[str | None, typer.Option(help="Age in years.")] = None,
    activity: Annotated[str, typer.Option(help="Physical activity: low, moderate or high.")] = "moderate",
    prior_treatments: Annotated[str, typer.Option(help="Earlier regular treatments of this area.")] = "0",
    baseline: Annotated[str | None, typer.Option(help="Untreated severity (1-3), if known.")] = None,
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
            units=parse_number(units, "units"),
            sex=sex,  # type: ignore[arg-type]
            age=parse_number(age, "age") if age is not None else None,
            activity=activity,  # type: ignore[arg-type]
            prior_treatments=int(parse_number(prior_treatments, "prior treatments", int)),
            baseline_severity=int(parse_number(baseline, "baseline", int)) if baseline is not None else None,
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


@simulate_app.command("clinic")
def simulate_clinic_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the CSV files.")],
    patients: Annotated[int, typer.Option(min=1, help="Number of patients.")] = 2000,
    years: Annotated[float, typer.Option(min=0.1, help="Years of treatments.")] = 3.0,
    seed: Annotated[int, typer.Option(help="Seed of the random generator (same seed, same clinic).")] = 0,
) -> None:
    """Simulate a clinic's records (patients, treatments, assessments) and the true wear-off days (truth.csv)."""
    from wearoff.simulation.clinic import simulate_clinic, write_clinic

    with progress_bar("simulating patients", patients) as advance:
        clinic = simulate_clinic(patients, years, seed, progress=advance)
    write_clinic(clinic, output)
    console.print(
        f"{len(clinic.patients)} patients, {len(clinic.treatments)} treatments, {len(clinic.assessments)} scores "
        f"written to {output} (truth in truth.csv)"
    )
