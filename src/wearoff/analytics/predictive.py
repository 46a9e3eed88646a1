r"""What the model predicts a clinic would *observe*: a predictive check of its median wear-off day.

Why a check and not a comparison of medians
-------------------------------------------
A clinic sees wear-off only through its clinicians' scores on the days it happens to score, and reads it as an
interval (:mod:`wearoff.analytics.durations`). The Turnbull median of such intervals is not the model's median
wear-off day: it depends on when the clinic scores (with re-booking at 13 weeks most treatments are re-treated
before they wear off, and the median is never reached). On three clinics simulated from the shipped model
(300 patients over 2 years, seeds 11-13) whose patients are re-booked on days 100-240 whatever their wear-off,
comparing the clinic's median (95 % bootstrap interval) with the model's median wear-off day called 11 of 46
area-product groups shorter or longer; this check called 3 of 46, as a 90 % check should.

The check
---------
For the treatments of a group (an area and a product), the model is made to be observed as the clinic observed
its own patients. Draw *r* (of ``n_draws``) gives every patient of the group the model's random effects
(sensitivity :math:`z_E` and duration effect :math:`z_b`, shared by their treatments, :mod:`wearoff.model.personal`)
and every treatment *k* its own deviation and onset:

.. math:: \log\tau_k = \mu_k + \sigma_b z_b + \sigma_w\varepsilon_k,\quad
          E_{\max,k} = \operatorname{expit}\big(h(\log r_k + \omega z_E - \log EC_{50})\big),

with the treatment's own dose, area, product, sex, activity, conditioning and untreated grade. The true
improvement on the days the clinic scored the treatment is rated by a clinician drawn from the rater model
(:func:`wearoff.model.ratings.rated_severity`), the scores are read into an interval by the same rule
(:func:`wearoff.analytics.durations.observed_intervals`, the vectorised rule behind ``wear_off_interval``), and
the group's Turnbull median is taken. The draws' medians are the model's predictive distribution of the clinic's
median; the clinic is "shorter" ("longer") when its own median lies below the 5th (above the 95th) percentile of
the draws.

What it conditions on: the days the clinic scored, as they were. That is right where scoring days do not depend
on the wear-off (a fixed review, fixed re-booking), as above; with the durations of such a clinic halved, every
glabellar group was called shorter (``tests/analytics/test_predictive.py``). Where patients book *because* they
see the effect gone, the return visit finds the effect gone more often than a draw on the same day does, and the
check leans towards "shorter": on a clinic simulated with half its patients booking a few weeks after their
wear-off (1,500 patients over 3 years, seed 7), it called 14 of 20 groups shorter, as did the comparison of
medians. Modelling the booking itself would be needed to remove that; the report says so beside the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from wearoff.analytics.durations import observed_intervals
from wearoff.catalog import Catalog
from wearoff.model import curve
from wearoff.model.cohort import shared_fields, treatment_terms
from wearoff.model.parameters import Parameters
from wearoff.model.personal import duration_spreads
from wearoff.model.ratings import rated_severity
from wearoff.model.treatment import Treatment, covariates_for
from wearoff.survival import turnbull

__all__ = ["drawn_intervals", "predicted_medians"]


def predicted_medians(
    rows: pd.DataFrame,
    followup_days: Mapping[str, Sequence[float]],
    params: Parameters,
    catalog: Catalog,
    rng: np.random.Generator,
    n_draws: int = 100,
) -> np.ndarray:
    """(n_draws,) the group's Turnbull median wear-off day in each draw of the model observed like the clinic
    (module docstring). ``rows`` are the group's rows of a durations table; ``followup_days`` its scoring days."""
    lower, upper = drawn_intervals(rows, followup_days, params, catalog, rng, n_draws)
    return np.array([turnbull(lower[:, r], upper[:, r]).percentile(0.5) for r in range(n_draws)])


def drawn_intervals(
    rows: pd.DataFrame,
    followup_days: Mapping[str, Sequence[float]],
    params: Parameters,
    catalog: Catalog,
    rng: np.random.Generator,
    n_draws: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)`` (K, n_draws): the wear-off intervals of the group's K treatments in each draw of the
    model, scored on the clinic's days by a clinician drawn from the rater model (module docstring)."""
    treatments = [
        Treatment(
            str(r.product), str(r.area), float(r.units), sex=r.sex, activity=r.activity,
            prior_treatments=int(r.prior_treatments), baseline_severity=int(r.baseline),
        )
        for r in rows.itertuples()
    ]  # fmt: skip
    terms = treatment_terms(params, covariates_for(treatments, params, catalog))
    fields = shared_fields(params)
    sigma_b, sigma_w = duration_spreads(params)
    patient, n_patients = pd.factorize(rows["patient_id"])[0], rows["patient_id"].nunique()
    k = len(rows)
    z_effect = rng.standard_normal((n_patients, n_draws))[patient]  # (K, R), shared by a patient's treatments
    z_duration = rng.standard_normal((n_patients, n_draws))[patient]
    tau = np.exp(terms.log_tau_mean[:, None] + sigma_b * z_duration + sigma_w * rng.standard_normal((k, n_draws)))
    onset = np.exp(terms.onset_log_mean[:, None] + fields["onset_log_sd"] * rng.standard_normal((k, n_draws)))
    peak = terms.peak(z_effect)
    scored = [followup_days[str(t)] for t in rows["treatment_id"]]
    days = np.full((k, max(len(d) for d in scored)), np.nan)
    for i, d in enumerate(scored):
        days[i, : len(d)] = d
    baseline = rows["baseline"].to_numpy(float)
    effect = curve.effect(
        np.nan_to_num(days)[:, :, None], peak=peak[:, None], onset_day=onset[:, None], tau=tau[:, None],
        gamma=fields["gamma"], shape=fields["rise_shape"],
    )  # fmt: skip
    improvement = curve.improvement(effect, baseline[:, None, None], fields["visibility"])
    severities = rated_severity(rng, improvement, baseline[:, None, None], "inv", params)
    return observed_intervals(days, severities, baseline)
