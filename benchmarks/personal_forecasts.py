"""Personal against population forecasts on a simulated clinic, and the speed of forecast-records.

Simulates a clinic (``wearoff simulate clinic``), forecasts every patient's latest treatment of each area as of
a date with and without the patients' own histories, and compares both with the true wear-off day for patients
with two or more earlier treatments of the area: mean absolute error (the population forecast is the reference
measured in the same run), the ratio of the two, and the coverage of the 90 % intervals.

    python benchmarks/personal_forecasts.py [--patients 2000] [--years 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from wearoff.plan.records_forecast import forecast_records
from wearoff.records.values import PatientHistory
from wearoff.simulation.clinic import START, histories, simulate_clinic


@dataclass
class BenchmarkClinic:
    """A simulated clinic's records, the true wear-off day of every treatment, and the date forecasts are made."""

    records: list[PatientHistory]
    truth: dict[str, float]
    as_of: date


def benchmark_clinic(description: str, patients: int = 2000) -> BenchmarkClinic:
    """The clinic of the command line (``--patients``, ``--years``, ``--seed``), forecast 120 days before its end."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--patients", type=int, default=patients)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    clinic = simulate_clinic(args.patients, args.years, args.seed)
    return BenchmarkClinic(
        histories(clinic),
        {t["treatment_id"]: t["true_wear_off_day"] for t in clinic.truth},
        START + timedelta(days=int(365.25 * args.years) - 120),
    )


def main() -> None:
    bench = benchmark_clinic(__doc__.splitlines()[0])
    records, truth, as_of = bench.records, bench.truth, bench.as_of
    results = {}
    for label, population_only in (("population", True), ("personal", False)):
        start = time.perf_counter()
        out = forecast_records(records, as_of, population_only=population_only)
        seconds = time.perf_counter() - start
        chosen = [r for r in out if r.earlier_treatments >= 2]
        error = np.array([abs(r.forecast.wear_off_day.median - truth[r.treatment_id]) for r in chosen])
        covered = np.mean(
            [
                r.forecast.wear_off_day.lower90 <= truth[r.treatment_id] <= r.forecast.wear_off_day.upper90
                for r in chosen
            ]
        )
        results[label] = error.mean()
        print(
            f"{label:10s}: {len(out)} forecasts ({len(records)} patients) in {seconds:.1f} s; "
            f"{len(chosen)} with >= 2 earlier treatments: MAE {error.mean():.1f} days, 90 % coverage "
            f"{100 * covered:.1f} %"
        )
    print(
        f"personal MAE / population MAE: {results['personal'] / results['population']:.3f} "
        f"({100 * (1 - results['personal'] / results['population']):.1f} % lower), as of {as_of}"
    )


if __name__ == "__main__":
    main()
