"""How well an arm interval's parameter uncertainty is measured: the quasi-random draws the intervals use, and
secants over one posterior sd of each parameter in turn, against plain Monte Carlo from the same posterior.

For every supported row of the shared evidence, the spread a prediction owes to the shipped parameters'
uncertainty is the root mean square of ``link x(theta + delta) - link x(theta)`` over draws ``delta`` from the
posterior (logit for shares, log for days: :func:`wearoff.model.arms._scale`). The reference is that root mean
square over many pseudo-random draws; the intervals' draws (:func:`wearoff.model.arms.prediction_variance`) and
the secants (:func:`wearoff.model.arms.prediction_jacobian` with spans of one sd, then ``g' Sigma g``) are
compared with it row by row, and both are timed in the same run; three rows of a share deep in a tail are added.

    python benchmarks/parameter_spread.py [--evidence ../shared/evidence/arms.csv] [--draws 2000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from wearoff.inference.evidence import read_arms
from wearoff.inference.workflow import scored_rows
from wearoff.model.arms import (
    Arm,
    arm_values,
    covariance_root,
    link_moves,
    prediction_jacobian,
    prediction_variance,
)
from wearoff.model.parameters import load_parameters

TAIL_ARM = Arm("onabotulinumtoxinA", "glabellar", 10, 100, 20)
TAIL_DAYS = (35.0, 40.0, 45.0)
"""A share deep in a tail, beside the evidence rows: half the label dose, a few patients back at baseline in the
second month (``returned_to_baseline``)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evidence", type=Path, default=Path("../shared/evidence/arms.csv"))
    parser.add_argument("--draws", type=int, default=2000)
    args = parser.parse_args()
    params = load_parameters()
    assert params.covariance is not None, "the shipped parameters carry no covariance"
    rows = scored_rows(read_arms(args.evidence))
    arms = [r.arm for r in rows] + [TAIL_ARM] * len(TAIL_DAYS)
    codes = [r.endpoint for r in rows] + ["returned_to_baseline"] * len(TAIL_DAYS)
    days = [r.day for r in rows] + list(TAIL_DAYS)
    labels = [f"{r.study} {r.endpoint} day {r.day}" for r in rows] + [
        f"onabotulinumtoxinA 10 U returned_to_baseline day {d:g}" for d in TAIL_DAYS
    ]
    evidence = np.arange(len(arms)) < len(rows)
    values = arm_values(params, arms, codes, days)
    names = list(params.covariance.names)
    matrix = params.covariance.matrix

    started = time.perf_counter()
    quasi = np.sqrt(prediction_variance(params, arms, codes, days, values).fitted)
    quasi_seconds = time.perf_counter() - started

    started = time.perf_counter()
    spans = np.sqrt(np.clip(np.diag(matrix), 0.0, None))
    jac = prediction_jacobian(params, names, arms, codes, days, values, spans=spans)
    secant = np.sqrt(np.einsum("ij,jk,ik->i", jac, matrix, jac))
    secant_seconds = time.perf_counter() - started

    rng = np.random.default_rng(0)
    root = covariance_root(matrix)
    started = time.perf_counter()
    squares = np.zeros(len(arms))
    for chunk in np.array_split(np.arange(args.draws), max(1, args.draws // 100)):  # 100 draws in memory at a time
        draws = rng.standard_normal((chunk.size, len(names))) @ root.T
        squares += np.sum(np.nan_to_num(link_moves(params, names, draws, arms, codes, days, values) ** 2), axis=0)
    reference = np.sqrt(squares / args.draws)
    reference_seconds = time.perf_counter() - started
    assert np.all(reference > 0), "every row is moved by some parameter"

    def summary(name: str, spread: np.ndarray, seconds: float) -> None:
        ratio = spread / reference
        within = np.mean(np.abs(np.log(ratio[evidence])) < np.log(1.1))
        tail = ", ".join(f"{r:.2f}" for r in ratio[~evidence])
        print(
            f"{name:<26} evidence rows: median ratio {np.median(ratio[evidence]):.3f}, within 10 % {within:.0%}, "
            f"range {ratio[evidence].min():.2f}-{ratio[evidence].max():.2f}; deep tail: {tail}; {seconds:.1f} s "
            f"({seconds / reference_seconds:.3f} of the reference's time)"
        )

    print(
        f"{int(evidence.sum())} evidence rows and {len(TAIL_DAYS)} deep-tail rows, {len(names)} fitted parameters; "
        f"reference: root mean square over {args.draws} pseudo-random draws ({reference_seconds:.1f} s)"
    )
    summary("draws (the intervals')", quasi, quasi_seconds)
    summary("secants over one sd each", secant, secant_seconds)
    print("rows where the secants are furthest off (spread of the prediction on the logit or log scale):")
    for i in np.argsort(-np.abs(np.log(secant / reference)))[:6]:
        print(
            f"  {labels[i]}: predicted {values[i]:.2f}; reference {reference[i]:.3f}, draws {quasi[i]:.3f}, "
            f"secants {secant[i]:.3f}"
        )


if __name__ == "__main__":
    main()
