"""Benchmarks of wearoff, each printed as a ratio against a reference measured in the same run.

* ``forecast``: wall time of the ``wearoff forecast`` command (a fresh process: imports included), median of
  repeated runs, against the 1.5 s budget and against a bare Python start-up measured alongside.
* ``forecast-api``: in-process forecasts per second, against the time one arm-level likelihood evaluation takes.

Run with ``make bench`` (or ``python benchmarks/run.py``).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BUDGET_SECONDS = 1.5
REPEATS = 7


def _wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench_forecast_command() -> None:
    exe = shutil.which("wearoff") or str(Path(sys.executable).with_name("wearoff"))
    cmd = [exe, "forecast", "--product", "onabotulinumtoxinA", "--area", "glabellar", "--units", "20"]
    _wall(cmd)  # warm the file cache
    times = [_wall(cmd) for _ in range(REPEATS)]
    bare = [_wall([sys.executable, "-c", "pass"]) for _ in range(REPEATS)]
    t, b = statistics.median(times), statistics.median(bare)
    print(f"forecast command: median {t:.3f} s over {REPEATS} runs (min {min(times):.3f}, max {max(times):.3f})")
    print(f"  ratio to the 1.5 s budget: {t / BUDGET_SECONDS:.2f}  ({'met' if t < BUDGET_SECONDS else 'MISSED'})")
    print(f"  ratio to a bare Python start-up ({b:.3f} s): {t / b:.1f}")


def bench_forecast_api() -> None:
    from wearoff.inference.evidence import read_arms
    from wearoff.inference.likelihood import fit_rows, log_likelihood
    from wearoff.model.forecast import forecast
    from wearoff.model.parameters import load_parameters
    from wearoff.model.treatment import Treatment

    params = load_parameters()
    treatment = Treatment("onabotulinumtoxinA", "glabellar", 20)
    forecast(treatment, params)
    n = 50
    start = time.perf_counter()
    for _ in range(n):
        forecast(treatment, params)
    per_forecast = (time.perf_counter() - start) / n
    print(f"forecast API: {per_forecast * 1000:.1f} ms a forecast ({1 / per_forecast:.0f} forecasts/s)")
    evidence = Path(__file__).resolve().parents[2] / "shared" / "evidence" / "arms.csv"
    if evidence.exists():
        rows = fit_rows(read_arms(evidence))
        start = time.perf_counter()
        for _ in range(5):
            log_likelihood(params, rows)
        per_eval = (time.perf_counter() - start) / 5
        print(
            f"  reference: one likelihood evaluation over {len(rows)} published rows, {per_eval * 1000:.1f} ms; "
            f"ratio forecast / evaluation: {per_forecast / per_eval:.2f}"
        )


if __name__ == "__main__":
    bench_forecast_command()
    bench_forecast_api()
