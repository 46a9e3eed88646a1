"""Personal forecasts from the scores themselves against the same forecasts from wear-off intervals.

The personal forecasts (``wearoff forecast-records``) update each patient's random effects with the likelihood of
every follow-up score under the rater model. The alternative this script measures reads the scores into
interval-censored wear-off days first (clinician scores, :func:`wearoff.analytics.treatment_durations`, as the
clinic analytics do) and updates a log-normal patient random intercept with the survival engine's interval
likelihood (:meth:`wearoff.survival.families.LogNormal.log_interval`):

.. math:: \\log T_k = m_k + b + \\sigma_w \\varepsilon_k,\\qquad b \\sim N(0, \\sigma_b^2),

with :math:`m_k` the population forecast's log median wear-off day of earlier treatment *k*, :math:`\\sigma_b` the
model's patient share of the duration spread and :math:`\\sigma_w^2` what remains of the forecast's own spread
(its 90 % interval over 2 x 1.645); the posterior of *b* on a grid, and the next treatment's median wear-off day from
the posterior mixture. Both are compared with the true wear-off day of every patient with two or more earlier
treatments of the area, on the clinic of ``benchmarks/personal_forecasts.py``; the population forecast is the
reference measured in the same run.

    python benchmarks/personal_intervals.py [--patients 2000] [--years 3] [--seed 1]
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from personal_forecasts import benchmark_clinic
from wearoff.analytics import treatment_durations
from wearoff.model.cohort import mixture_survival_roots
from wearoff.model.forecast import forecast_many
from wearoff.model.parameters import load_parameters
from wearoff.model.personal import duration_spreads
from wearoff.model.treatment import Treatment
from wearoff.plan.records_forecast import forecast_records
from wearoff.records.values import AreaHistory, PatientHistory
from wearoff.survival.families import LogNormal

WIDTH90 = 2.0 * float(ndtri(0.95))
"""Width of a normal 90 % interval in standard deviations."""
MIN_WITHIN_VARIANCE = 1e-4
"""Floor of the within-patient variance of log duration (SD 0.01) where a forecast's own spread is below the
patient spread: keeps it positive."""
GRID = np.linspace(-4.0, 4.0, 161)
"""The patient's random intercept in units of its prior SD."""


def _spread(lower90: float, upper90: float) -> float:
    return (math.log(max(upper90, 1.0)) - math.log(max(lower90, 1.0))) / WIDTH90


def _mixture_median(weights: np.ndarray, locations: np.ndarray, sd: float) -> float:
    """Median day of a mixture of log-normals (weights, log-day locations, one log-scale SD), solved as the
    forecasts solve theirs (:func:`wearoff.model.cohort.mixture_survival_roots`)."""
    shape = (1, 1, locations.size)
    log_day = mixture_survival_roots(
        weights.reshape(shape), locations.reshape(shape), np.full(shape, sd), np.array([[0.5]])
    )
    return math.exp(float(log_day[0, 0]))


def _as_of(records: list[PatientHistory], day) -> list[PatientHistory]:
    return [
        PatientHistory(
            h.patient,
            {
                code: AreaHistory(
                    code, [t for t in a.treatments if t.date <= day], [s for s in a.assessments if s.date <= day]
                )
                for code, a in h.areas.items()
            },
        )
        for h in records
    ]


def main() -> None:
    bench = benchmark_clinic(__doc__.splitlines()[0])
    records, truth, as_of = bench.records, bench.truth, bench.as_of
    personal = [r for r in forecast_records(records, as_of) if r.earlier_treatments >= 2]
    population = {r.treatment_id: r for r in forecast_records(records, as_of, population_only=True)}

    params = load_parameters()
    sigma_b, _ = duration_spreads(params)
    table = treatment_durations(_as_of(records, as_of)).table
    earlier = forecast_many(
        [
            Treatment(r.product, r.area, float(r.units), sex=r.sex, activity=r.activity,
                      prior_treatments=int(r.prior_treatments), baseline_severity=int(r.baseline))
            for r in table.itertuples()
        ],
        params,
        with_curve=False,
    )  # fmt: skip
    table["m"] = [math.log(max(f.wear_off_day.median, 1.0)) for f in earlier]
    table["s"] = [_spread(f.wear_off_day.lower90, f.wear_off_day.upper90) for f in earlier]
    by_patient = dict(iter(table.groupby("patient_id")))

    b = GRID * sigma_b
    log_prior = -0.5 * GRID**2
    errors = {"population": [], "scores": [], "intervals": []}
    for r in personal:
        reference = population[r.treatment_id].forecast.wear_off_day
        log_post = log_prior.copy()
        rows = by_patient.get(r.patient_id)
        if rows is not None:
            for row in rows[rows["treatment_id"] != r.treatment_id].itertuples():
                sw = math.sqrt(max(row.s**2 - sigma_b**2, MIN_WITHIN_VARIANCE))
                z_lo = (math.log(row.lower) - row.m - b) / sw if row.lower > 0 else np.full_like(b, -np.inf)
                z_hi = (math.log(row.upper) - row.m - b) / sw if np.isfinite(row.upper) else np.full_like(b, np.inf)
                log_post += LogNormal.log_interval(z_lo, z_hi)
        w = np.exp(log_post - log_post.max())
        w /= w.sum()
        m0 = math.log(max(reference.median, 1.0))
        sw0 = math.sqrt(max(_spread(reference.lower90, reference.upper90) ** 2 - sigma_b**2, MIN_WITHIN_VARIANCE))
        median = _mixture_median(w, m0 + b, sw0)
        true = truth[r.treatment_id]
        errors["population"].append(abs(reference.median - true))
        errors["scores"].append(abs(r.forecast.wear_off_day.median - true))
        errors["intervals"].append(abs(median - true))
    mae = {k: float(np.mean(v)) for k, v in errors.items()}
    print(f"{len(personal)} patient-areas with >= 2 earlier treatments, as of {as_of}")
    print(f"  population forecast (reference)            MAE {mae['population']:.1f} days")
    print(
        f"  personal, score likelihood (shipped)       MAE {mae['scores']:.1f} days "
        f"({100 * (1 - mae['scores'] / mae['population']):.1f} % lower)"
    )
    print(
        f"  personal, intervals + random intercept     MAE {mae['intervals']:.1f} days "
        f"({100 * (1 - mae['intervals'] / mae['population']):.1f} % lower)"
    )


if __name__ == "__main__":
    main()
