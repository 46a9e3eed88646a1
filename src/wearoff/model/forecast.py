"""Forecasts of one or many treatments: the one path every door (CLI, API, pages, batch) goes through.

A forecast integrates over the patients who share the treatment's covariates (population random effects):
its intervals are the 90 % range *between such patients*, which is what a clinician needs before knowing how
this patient responds. Personal forecasts replace the population random effects by the patient's posterior.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from wearoff.catalog import Catalog, load_catalog
from wearoff.model.cohort import Cohorts, population_cohorts
from wearoff.model.parameters import Parameters, load_parameters
from wearoff.model.treatment import Treatment, covariates_for

QUANTILES = (0.05, 0.5, 0.95)
CURVE_DAYS = np.arange(0.0, 301.0, 2.0)


@dataclass(frozen=True)
class Interval:
    """A median and its 90 % interval."""

    median: float
    lower90: float
    upper90: float

    @classmethod
    def of(cls, values: np.ndarray) -> Interval:
        lower, median, upper = (float(v) for v in values)
        return cls(median, lower, upper)


@dataclass(frozen=True)
class EffectCurve:
    """Effect (0..1 of the muscle's pull removed) over days since injection: median and 90 % band."""

    days: list[float]
    median: list[float]
    lower90: list[float]
    upper90: list[float]


@dataclass(frozen=True)
class Forecast:
    """What the model expects of a treatment.

    ``response_share``: patients with any visible response; ``none_mild_at_peak``: patients an investigator
    would rate none or mild at the peak. Day intervals are among responders: ``onset_day`` (effect half-way
    to its peak), ``peak_day``, ``wear_off_day`` (back at the pre-treatment grade),
    ``none_mild_until_day`` (no longer none or mild, among those who reached it) and
    ``none_mild_back_at_baseline_day`` (when those who reached none/mild are back at baseline).
    """

    treatment: Treatment
    relative_dose: float
    response_share: float
    none_mild_at_peak: float
    onset_day: Interval
    peak_day: Interval
    wear_off_day: Interval
    none_mild_until_day: Interval
    none_mild_back_at_baseline_day: Interval
    curve: EffectCurve

    def to_dict(self) -> dict:
        """A JSON-ready dictionary."""
        return asdict(self)


def forecast_many(
    treatments: list[Treatment], params: Parameters | None = None, catalog: Catalog | None = None
) -> list[Forecast]:
    """Forecast each treatment (validated first: a :class:`TreatmentError` says what is wrong)."""
    params = params or load_parameters()
    catalog = catalog or load_catalog()
    out = []
    for t in (t.validated(catalog) for t in treatments):
        cov = covariates_for([t], params, catalog)
        cohort = population_cohorts(params, cov, np.ones((1, 1)), t.baseline_severity)
        out.append(summarise(t, cohort, float(np.exp(cov.effective_log_dose(params)[0]))))
    return out


def forecast(treatment: Treatment, params: Parameters | None = None, catalog: Catalog | None = None) -> Forecast:
    """Forecast one treatment."""
    return forecast_many([treatment], params, catalog)[0]


def summarise(t: Treatment, cohort: Cohorts, relative_dose: float) -> Forecast:
    """The forecast of a treatment from its cohort (population or a patient's posterior)."""
    q = list(QUANTILES)
    responders = float(cohort.responders()[0])
    onset_days = np.exp(np.linspace(np.log(0.25), np.log(60.0), 400))
    onset = cohort.onset_cdf(onset_days)[0] / max(responders, 1e-12)
    onset_iv = np.interp(q, onset, onset_days) if responders > 0 else np.full(3, np.nan)
    none_mild = cohort.reaching("none_mild")
    band = cohort.effect_quantiles(CURVE_DAYS, q)[0]
    peak_days = cohort.peak_day_quantiles(q)[0]
    peak_day = float(peak_days[1])
    return Forecast(
        treatment=t,
        relative_dose=relative_dose,
        response_share=responders,
        none_mild_at_peak=float(cohort.rated_share([peak_day], "inv", 0, none_or_mild=True)[0, 0]),
        onset_day=Interval.of(onset_iv),
        peak_day=Interval.of(peak_days),
        wear_off_day=Interval.of(cohort.quantile(q)[0]),
        none_mild_until_day=Interval.of(cohort.quantile(q, "none_mild")[0]),
        none_mild_back_at_baseline_day=Interval.of(none_mild.quantile(q)[0]),
        curve=EffectCurve(
            days=CURVE_DAYS.tolist(),
            median=band[:, 1].tolist(),
            lower90=band[:, 0].tolist(),
            upper90=band[:, 2].tolist(),
        ),
    )
