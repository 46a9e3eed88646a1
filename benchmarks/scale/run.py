"""How the Dask fit scales with rows and workers, against the in-process fit measured in the same run.

For each size, a synthetic interval-censored data set (``wearoff.scale.synthetic.simulate_intervals``: four
covariates, a quarter right-censored) is written as ``--partitions`` Parquet files; then the Weibull AFT is fitted

* in process: ``IntervalAFT.fit`` on the data read into memory (reading not counted),
* on Dask: ``DaskIntervalAFT.fit`` on a ``LocalCluster`` of 1 and 2 single-threaded worker processes (cluster start
  not counted; reading the files on the workers, the moments pass, the start and every Newton round are),

and prints seconds, the ratio to the in-process fit, the number of map-reduce rounds and the largest relative
difference of the parameters and the log-likelihood from the in-process fit.

    python benchmarks/scale/run.py            # 250k, 1M, 2M rows; 1 and 2 workers (about 3-4 minutes, 2 cores)
    python benchmarks/scale/run.py --quick    # 50k and 200k rows
    python benchmarks/scale/run.py --rows 500000 --workers 1 2 4 --partitions 16 --group
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from wearoff.scale import DaskIntervalAFT, write_partitions
from wearoff.scale.synthetic import simulate_intervals
from wearoff.survival import IntervalAFT

COVARIATES = ["x1", "x2", "x3", "x4"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[250_000, 1_000_000, 2_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--family", default="weibull")
    parser.add_argument("--group", action="store_true", help="Random intercept per group of 4 rows (slower).")
    parser.add_argument("--quick", action="store_true", help="50k and 200k rows.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    sizes = [50_000, 200_000] if args.quick else args.rows
    group = "group" if args.group else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="wearoff-bench-") as scratch:
        datasets = {}
        for n in sizes:
            frame = simulate_intervals(n, rng=args.seed, n_covariates=len(COVARIATES))
            folder = Path(scratch) / f"n{n}"
            write_partitions(frame, folder, "group", args.partitions)
            t0 = time.perf_counter()
            ref = IntervalAFT(args.family).fit(frame, "lower", "upper", COVARIATES, group_col=group)
            seconds = time.perf_counter() - t0
            datasets[n] = (folder, ref, seconds)
            print(f"{n:>9,} rows  in process   {seconds:7.2f} s  ({ref.n_iter_} iterations)", flush=True)
            del frame
        for workers in args.workers:
            with (
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                             silence_logs=logging.ERROR) as cluster,
                Client(cluster) as client,
            ):  # fmt: skip
                for n in sizes:
                    folder, ref, local_seconds = datasets[n]
                    t0 = time.perf_counter()
                    fit = DaskIntervalAFT(args.family).fit(folder, covariates=COVARIATES, group_col=group,
                                                           client=client)  # fmt: skip
                    seconds = time.perf_counter() - t0
                    diff = max(
                        float(np.max(np.abs(fit.params_.to_numpy() / ref.params_.to_numpy() - 1.0))),
                        abs(fit.log_likelihood_ / ref.log_likelihood_ - 1.0),
                    )
                    rows.append((n, workers, seconds, seconds / local_seconds, fit.n_rounds_, diff))
                    print(f"{n:>9,} rows  dask x{workers}     {seconds:7.2f} s  ratio to in process "
                          f"{seconds / local_seconds:5.2f}  rounds {fit.n_rounds_:3d}  max rel diff {diff:.1e}",
                          flush=True)  # fmt: skip
    print("\nrows       workers  dask s  in-process s  ratio  rows/s (dask)")
    for n, workers, seconds, ratio, _, _ in rows:
        print(f"{n:>9,}  {workers:>7}  {seconds:6.2f}  {datasets_seconds(datasets, n):12.2f}  {ratio:5.2f}  "
              f"{n / seconds:,.0f}")  # fmt: skip
    worst = max((r[5] for r in rows), default=0.0)
    print(f"\nlargest relative difference from the in-process fit: {worst:.1e}")
    return 0 if worst < 1e-6 else 1


def datasets_seconds(datasets: dict, n: int) -> float:
    return datasets[n][2]


if __name__ == "__main__":
    sys.exit(main())
