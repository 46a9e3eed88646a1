"""How well personal posteriors are integrated: the adaptive rule against a fixed grid and a dense reference.

Simulates a clinic (``wearoff simulate clinic``), takes each scored patient's history as of a date, and computes the
posterior mean and standard deviation of the patient's sensitivity and duration effects three ways:

* ``adaptive``: what forecasts use, the engine's moment-adapted 7 x 7 Gauss-Hermite rule
  (:func:`wearoff.model.personal.patient_posteriors`);
* ``fixed 16 x 16``: the standard normal Gauss-Hermite product grid, the same for every patient (the reference
  measured in the same run: the earlier way);
* ``dense``: the truth the two are measured against, in two stages: a uniform 241 x 241 grid on [-6, 6]^2 finds
  each patient's posterior, then a 161 x 161 grid of the patient's own over six of its sds either side of its
  mean measures it (a patient pinned down by many scores has a posterior only a few tenths wide, with features a
  uniform spacing of 0.05 blurs).

Prints the mean and 99th percentile of the absolute errors (in standard normal units) and the time per patient.

    python benchmarks/personal_quadrature.py [--patients 150] [--years 3] [--seed 1]
"""

from __future__ import annotations

import time

import numpy as np

from personal_forecasts import benchmark_clinic
from wearoff.catalog import Catalog, load_catalog
from wearoff.model.cohort import standard_normal_nodes
from wearoff.model.parameters import Parameters, load_parameters
from wearoff.model.personal import Episode, ScoredEpisodes, episode_log_likelihoods, patient_posteriors
from wearoff.plan.history import patient_episodes

DENSE_POINTS = 241
"""Points a dimension of the grid on [-6, 6] (spacing 0.05) that finds each posterior."""
ZOOMED_POINTS = 161
"""Points a dimension of each patient's own grid over six posterior sds either side of its mean."""
ZOOM_SDS = 6.0
POINTS_AT_ONCE = 1024
"""Grid points evaluated together (bounds memory)."""


def grid_moments(
    params: Parameters, patients: list[list[Episode]], catalog: Catalog, z: np.ndarray, prior_weight: np.ndarray
) -> np.ndarray:
    """(patients, 4): mean_E, mean_b, sd_E, sd_b of each posterior on points ``z``: (M, 2) shared by all patients
    or (patients, M, 2) a patient's own, with prior weights of the same leading shape; all patients' episodes
    evaluated together."""
    scored = [(i, e) for i, h in enumerate(patients) for e in h if e.observations]
    data = ScoredEpisodes.of(params, [e for _, e in scored], catalog)
    owner = np.array([i for i, _ in scored])
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    k = len(scored)
    own = np.broadcast_to(z, (len(patients), *z.shape[-2:]))
    points = own.shape[1]
    log_l = np.zeros((len(patients), points))
    for first in range(0, points, POINTS_AT_ONCE):
        part = own[owner, first : first + POINTS_AT_ONCE]
        per_episode = episode_log_likelihoods(params, data, np.arange(k), part[..., 0], part[..., 1])
        log_l[owner[starts], first : first + part.shape[1]] = np.add.reduceat(per_episode, starts, axis=0)
    log_w = np.log(prior_weight) + log_l
    w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    mean = np.einsum("pm,pmi->pi", w, own)
    sd = np.sqrt(np.einsum("pm,pmi->pi", w, (own - mean[:, None, :]) ** 2))
    return np.hstack([mean, sd])


def dense_moments(params: Parameters, patients: list[list[Episode]], catalog: Catalog) -> np.ndarray:
    """The reference moments: a shared uniform grid finds each posterior, a grid of the patient's own over
    ``ZOOM_SDS`` of its sds either side of its mean measures it."""
    grid = np.linspace(-6.0, 6.0, DENSE_POINTS)
    shared = np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1).reshape(-1, 2)
    found = grid_moments(params, patients, catalog, shared, np.exp(-0.5 * np.sum(shared**2, axis=1)))
    unit = np.linspace(-ZOOM_SDS, ZOOM_SDS, ZOOMED_POINTS)
    unit_z = np.stack(np.meshgrid(unit, unit, indexing="ij"), axis=-1).reshape(-1, 2)
    own = found[:, None, :2] + unit_z[None] * found[:, None, 2:]
    return grid_moments(params, patients, catalog, own, np.exp(-0.5 * np.sum(own**2, axis=2)))


def main() -> None:
    bench = benchmark_clinic(__doc__.splitlines()[0], patients=150)
    params, catalog = load_parameters(), load_catalog()
    patients = [patient_episodes(h, bench.as_of) for h in bench.records]
    patients = [h for h in patients if any(e.observations for e in h)]

    start = time.perf_counter()
    posteriors = patient_posteriors(params, patients, catalog)
    adaptive_seconds = time.perf_counter() - start
    adaptive = np.array(
        [
            [
                p.mean_effect(),
                p.mean_duration_effect(),
                np.sqrt(p.weights @ (p.z_effect - p.mean_effect()) ** 2),
                np.sqrt(p.weights @ (p.z_duration - p.mean_duration_effect()) ** 2),
            ]
            for p in posteriors
        ]
    )
    nodes, weights = standard_normal_nodes(16)
    fixed_z = np.stack(np.meshgrid(nodes, nodes, indexing="ij"), axis=-1).reshape(-1, 2)
    fixed_w = np.outer(weights, weights).ravel()
    start = time.perf_counter()
    fixed = grid_moments(params, patients, catalog, fixed_z, fixed_w)
    fixed_seconds = time.perf_counter() - start
    dense = dense_moments(params, patients, catalog)

    print(f"{len(patients)} scored patients of {len(bench.records)} simulated, as of {bench.as_of}")
    print(f"{'':16s}{'time/patient':>14s}   |error| mean (p99): sensitivity mean, duration mean, sd_E, sd_b")
    runs = (("adaptive 7 x 7", adaptive, adaptive_seconds), ("fixed 16 x 16", fixed, fixed_seconds))
    for label, values, seconds in runs:
        error = np.abs(values - dense)
        p99 = np.percentile(error, 99, axis=0)
        cells = ", ".join(f"{m:.4f} ({p:.3f})" for m, p in zip(error.mean(0), p99, strict=True))
        print(f"{label:16s}{1000 * seconds / len(patients):11.2f} ms   {cells}")
    ratio = np.abs(adaptive - dense).mean(0) / np.abs(fixed - dense).mean(0)
    print("adaptive error / fixed-grid error: " + ", ".join(f"{r:.2f}" for r in ratio))
    print(f"adaptive time / fixed-grid time: {adaptive_seconds / fixed_seconds:.2f}")


if __name__ == "__main__":
    main()
