"""The records at clinic scale: importing 100k treatments, and forecasting 10k patients.

Both run the ``wearoff`` commands in fresh processes on a simulated clinic (``wearoff simulate clinic``), so
imports, file reading and writing are all counted, and each prints its ratio to its budget and to a reference
measured in the same run:

* ``import``: ``wearoff import DIR`` of a clinic with at least 100,000 treatments and their assessments into a new
  SQLite database (budget 60 s); reference: reading and parsing the same CSV files with the ``csv`` module.
* ``forecast-records``: ``wearoff forecast-records DIR --as-of D`` for 10,000 patients with their histories
  (budget 60 s); reference: the same command with ``--population-only`` (no patient histories).

    python benchmarks/records_scale.py [--treatments 100000] [--patients 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

BUDGET_SECONDS = 60.0
YEARS = 3.0


def _wearoff() -> str:
    return shutil.which("wearoff") or str(Path(sys.executable).with_name("wearoff"))


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def _count_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def _simulate(folder: Path, patients: int, seed: int) -> None:
    subprocess.run(
        [
            _wearoff(),
            "simulate",
            "clinic",
            "--patients",
            str(patients),
            "--years",
            str(YEARS),
            "--seed",
            str(seed),
            "-o",
            str(folder),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _verdict(seconds: float) -> str:
    return f"ratio to the {BUDGET_SECONDS:.0f} s budget: {seconds / BUDGET_SECONDS:.2f} " + (
        "(met)" if seconds < BUDGET_SECONDS else "(MISSED)"
    )


def bench_import(work: Path, treatments: int, seed: int) -> None:
    # a pilot clinic tells how many treatments a patient has in YEARS; size the clinic to reach the target
    pilot = work / "pilot"
    _simulate(pilot, 500, seed)
    per_patient = _count_rows(pilot / "treatments.csv") / 500
    folder = work / "import"
    _simulate(folder, int(treatments / per_patient * 1.1) + 1, seed)
    n_treatments = _count_rows(folder / "treatments.csv")
    n_scores = _count_rows(folder / "assessments.csv")
    n_patients = _count_rows(folder / "patients.csv")

    start = time.perf_counter()
    for name in ("patients.csv", "treatments.csv", "assessments.csv"):
        with (folder / name).open(newline="", encoding="utf-8") as handle:
            for _ in csv.DictReader(handle):
                pass
    parse = time.perf_counter() - start

    env = {**os.environ, "WEAROFF_DATABASE_URL": f"sqlite:///{work / 'import.db'}"}
    subprocess.run([_wearoff(), "db", "init"], check=True, stdout=subprocess.DEVNULL, env=env)
    seconds = _timed([_wearoff(), "import", str(folder)], env)
    print(
        f"import: {n_treatments} treatments, {n_scores} assessments, {n_patients} patients into SQLite "
        f"in {seconds:.1f} s"
    )
    print(f"  {_verdict(seconds)}")
    print(f"  ratio to parsing the same CSV files with the csv module ({parse:.2f} s): {seconds / parse:.1f}")


def bench_forecast_records(work: Path, patients: int, seed: int) -> None:
    folder = work / "forecast"
    _simulate(folder, patients, seed)
    from wearoff.simulation.clinic import START

    as_of = (START + timedelta(days=int(365.25 * YEARS) - 120)).isoformat()
    base = [_wearoff(), "forecast-records", str(folder), "--as-of", as_of]
    population = _timed([*base, "-o", str(work / "population.csv"), "--population-only"])
    personal = _timed([*base, "-o", str(work / "personal.csv")])
    rows = _count_rows(work / "personal.csv")
    print(f"forecast-records: {patients} patients ({rows} patient-areas) as of {as_of} in {personal:.1f} s")
    print(f"  {_verdict(personal)}")
    print(f"  ratio to --population-only ({population:.1f} s, no histories): {personal / population:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--treatments", type=int, default=100_000)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wearoff-bench-") as tmp:
        work = Path(tmp)
        bench_import(work, args.treatments, args.seed)
        bench_forecast_records(work, args.patients, args.seed)


if __name__ == "__main__":
    main()
