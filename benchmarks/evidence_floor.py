"""What a model whose population responder rates were exact would score on the shared evidence.

Each percent row's observed value is drawn as a trial would produce it around the shipped model's in-sample
prediction: the trial's own potency and duration are drawn (the model evaluated at the nodes of their fitted
spread), its rate varies further on the logit scale with the trial's rating shift (rated shares) and the
heterogeneity left between arms, and its patients are binomial with the arm's size. The mean absolute error of
such draws is the responder-rate MAE a perfect population model would still show, to be set beside the measured
in-sample and held-out MAE. The spreads are held at their fitted values (the floor of a model that knew them).

    python benchmarks/evidence_floor.py [--evidence ../shared/evidence/arms.csv] [--draws 20000]
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

from wearoff.inference.evidence import read_arms
from wearoff.inference.workflow import in_sample_predictions
from wearoff.model.arms import (
    DEFAULT_ARM_SIZE,
    PROB_FLOOR,
    STUDY_EFFECT_SDS,
    rating_variance,
    study_node_values,
    study_sds,
)
from wearoff.model.endpoints import ENDPOINTS
from wearoff.model.parameters import load_parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evidence", type=Path, default=Path("../shared/evidence/arms.csv"))
    parser.add_argument("--draws", type=int, default=20_000)
    args = parser.parse_args()
    params = load_parameters()
    het = math.exp(params["log_het_logit"])
    predictions = in_sample_predictions(params, read_arms(args.evidence))
    rows = [p for p in predictions if ENDPOINTS[p.row.endpoint].unit == "percent"]
    arms, codes, days = [p.row.arm for p in rows], [p.row.endpoint for p in rows], [p.row.day for p in rows]
    node_values, weights = study_node_values(replace(params, covariance=None), arms, codes, days)
    logit_sds = np.sqrt(het**2 + rating_variance(params, codes))
    rng = np.random.default_rng(0)
    floor, measured = [], []
    for p, at_nodes, logit_sd in zip(rows, node_values, logit_sds, strict=True):
        n = p.row.arm.n or DEFAULT_ARM_SIZE
        trial = rng.choice(len(weights), size=args.draws, p=weights / weights.sum())
        rate = np.clip(at_nodes[trial] / 100.0, PROB_FLOOR, 1.0 - PROB_FLOOR)
        trial_rates = expit(logit(rate) + logit_sd * rng.standard_normal(args.draws))
        observed = 100.0 * rng.binomial(n, trial_rates) / n
        floor.append(np.mean(np.abs(observed - p.predicted)))
        measured.append(abs(p.row.value - p.predicted))
    sds = ", ".join(f"{sd} {value:.3f}" for sd, value in zip(STUDY_EFFECT_SDS, study_sds(params), strict=True))
    print(f"heterogeneity between arms (logit sd): {het:.3f}; trials' own effects: {sds}")
    print(f"responder rows: {len(floor)}")
    print(f"expected MAE of an exact population model: {np.mean(floor):.1f} points")
    print(f"measured in-sample MAE: {np.mean(measured):.1f} points (ratio {np.mean(measured) / np.mean(floor):.2f})")


if __name__ == "__main__":
    main()
