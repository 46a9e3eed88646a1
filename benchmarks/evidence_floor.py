"""What a model whose population responder rates were exact would score on the shared evidence.

Each percent row's observed value is drawn as a trial would produce it around the shipped model's in-sample
prediction: the trial's own rate varies with the fitted between-trial heterogeneity (logit-normal) and its
patients are binomial with the arm's size. The mean absolute error of such draws is the responder-rate MAE a
perfect population model would still show, to be set beside the measured in-sample and held-out MAE.

    python benchmarks/evidence_floor.py [--evidence ../shared/evidence/arms.csv] [--draws 20000]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

from wearoff.inference.evidence import read_arms
from wearoff.inference.workflow import in_sample_predictions
from wearoff.model.arms import DEFAULT_ARM_SIZE, PROB_FLOOR
from wearoff.model.endpoints import ENDPOINTS
from wearoff.model.parameters import load_parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evidence", type=Path, default=Path("../shared/evidence/arms.csv"))
    parser.add_argument("--draws", type=int, default=20_000)
    args = parser.parse_args()
    params = load_parameters()
    het = math.exp(params["log_het_logit"])
    rng = np.random.default_rng(0)
    floor, measured = [], []
    for p in in_sample_predictions(params, read_arms(args.evidence)):
        if ENDPOINTS[p.row.endpoint].unit != "percent":
            continue
        n = p.row.arm.n or DEFAULT_ARM_SIZE
        rate = np.clip(p.predicted / 100.0, PROB_FLOOR, 1.0 - PROB_FLOOR)
        trial_rates = expit(logit(rate) + het * rng.standard_normal(args.draws))
        observed = 100.0 * rng.binomial(n, trial_rates) / n
        floor.append(np.mean(np.abs(observed - p.predicted)))
        measured.append(abs(p.row.value - p.predicted))
    print(f"between-trial heterogeneity (logit sd): {het:.3f}")
    print(f"responder rows: {len(floor)}")
    print(f"expected MAE of an exact population model: {np.mean(floor):.1f} points")
    print(f"measured in-sample MAE: {np.mean(measured):.1f} points (ratio {np.mean(measured) / np.mean(floor):.2f})")


if __name__ == "__main__":
    main()
