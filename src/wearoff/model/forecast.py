"""Forecasts of one or many treatments: the one path every door (CLI, API, pages, batch) goes through.

A forecast integrates over the patient's random effects: the population's for a new patient (its intervals are
then the 90 % range *between patients like this one*), or the patient's posterior given their earlier
treatments and follow-up scores (:mod:`wearoff.model.personal`). Both go the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from wearoff.catalog import Catalog, load_catalog
from wearoff.model.cohort import Cohorts, solve_quantiles, stack_cohorts
from wearoff.model.parameters import Parameters, load_parameters
from wearoff.model.personal import Episode, current_log_likelihoods, patient_posteriors, personal_cohort
from wearoff.model.treatment import Treatment

QUANTILES = (0.05, 0.5, 0.95)
CURVE_DAYS = np.concatenate(
    [np.arange(0.0, 8.0), [9.0, 11.0, 14.0, 17.0, 21.0, 24.0], np.arange(28.0, 295.0, 7.0), [300.0]]
)
"""Days of the effect curve and its band: daily while the effect sets in, weekly once it wears off (54 points)."""
SUMMARY_BATCH = 64
PEAK_SHARE_NODES = (5, 3)
"""Quadrature rules (duration, onset) of the share rated none/mild at the peak: near the peak the effect hardly
depends on either; against the trials' rules (12, 7) they change the share by under 0.05 percentage points."""
"""Forecasts summarised together (bounds the memory of the batched quadrature)."""


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

    @classmethod
    def maybe(cls, values: np.ndarray) -> Interval | None:
        """The interval, or None where it is undefined (no patient concerned)."""
        return cls.of(values) if np.all(np.isfinite(values)) else None


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
    would rate none or mild at the peak. ``wear_off_day`` (back at the pre-treatment grade) and
    ``none_mild_until_day`` (no longer none or mild) are over all such patients, a non-responder counting as
    day 0; ``onset_day`` (effect half-way to its peak) and ``peak_day`` are among responders, and
    ``none_mild_back_at_baseline_day`` among those who reach none or mild (None where nobody does).
    """

    treatment: Treatment
    relative_dose: float
    response_share: float
    none_mild_at_peak: float
    onset_day: Interval | None
    peak_day: Interval
    wear_off_day: Interval
    wear_off_quartiles: tuple[float, float]
    none_mild_until_day: Interval
    none_mild_back_at_baseline_day: Interval | None
    curve: EffectCurve

    def to_dict(self) -> dict:
        """A JSON-ready dictionary."""
        return asdict(self)


def forecast_many(
    treatments: list[Treatment],
    params: Parameters | None = None,
    catalog: Catalog | None = None,
    histories: list[list[Episode]] | None = None,
    *,
    currents: list[Episode | None] | None = None,
    with_curve: bool = True,
) -> list[Forecast]:
    """Forecast each treatment (validated first: a :class:`TreatmentError` says what is wrong).

    ``histories`` gives each patient's earlier treatments and scores (personal forecasts); without it, or with
    an empty history, a forecast is the population's. ``currents`` names, per treatment, the episode of its history
    that is that treatment itself (its own follow-up scores so far), if any. ``with_curve=False`` skips the effect
    curve and its band (batch work that needs only the days).
    """
    params = params or load_parameters()
    catalog = catalog or load_catalog()
    treatments = [t.validated(catalog) for t in treatments]
    histories = histories if histories is not None else [[] for _ in treatments]
    currents = currents if currents is not None else [None] * len(treatments)
    if len(histories) != len(treatments) or len(currents) != len(treatments):
        raise ValueError("give one history and one current episode (or None) per treatment")
    # forecasts with no scores to learn from are the population's: equal treatments are forecast once
    first_of: dict[object, int] = {}
    same_as = [
        first_of.setdefault(
            t if not any(e.observations for e in h) and not (c is not None and c.observations) else ("own", i), i
        )
        for i, (t, h, c) in enumerate(zip(treatments, histories, currents, strict=True))
    ]
    todo = sorted(set(same_as))
    done = _forecast_distinct(
        [treatments[i] for i in todo],
        params,
        catalog,
        [histories[i] for i in todo],
        [currents[i] for i in todo],
        with_curve,
    )
    by_index = dict(zip(todo, done, strict=True))
    return [by_index[j] for j in same_as]


def _forecast_distinct(
    treatments: list[Treatment],
    params: Parameters,
    catalog: Catalog,
    histories: list[list[Episode]],
    currents: list[Episode | None],
    with_curve: bool,
) -> list[Forecast]:
    # a patient's courses share one history: each distinct history gets one posterior
    distinct: dict[int, int] = {}
    for history in histories:
        distinct.setdefault(id(history), len(distinct))
    unique = list({id(h): h for h in histories}.values())
    posteriors = patient_posteriors(params, unique, catalog)
    scored = [i for i, c in enumerate(currents) if c is not None and c.observations]
    own = dict(
        zip(
            scored,
            current_log_likelihoods(
                params,
                [currents[i] for i in scored],  # type: ignore[misc]
                [posteriors[distinct[id(histories[i])]] for i in scored],
                catalog,
            ),
            strict=True,
        )
    )
    cohorts, doses = [], []
    for i, (t, history, current) in enumerate(zip(treatments, histories, currents, strict=True)):
        cohort, relative_dose = personal_cohort(
            params, t, posteriors[distinct[id(history)]], catalog, current, own.get(i)
        )
        cohorts.append(cohort)
        doses.append(relative_dose)
    # batches of cohorts with similar numbers of nodes pad little
    order = sorted(range(len(cohorts)), key=lambda i: cohorts[i].weight.shape[-1])
    out: list[Forecast | None] = [None] * len(treatments)
    for first in range(0, len(order), SUMMARY_BATCH):
        part = order[first : first + SUMMARY_BATCH]
        batch = summarise(
            [treatments[i] for i in part],
            stack_cohorts([cohorts[i] for i in part]),
            [doses[i] for i in part],
            with_curve=with_curve,
        )
        for i, f in zip(part, batch, strict=True):
            out[i] = f
    return out  # type: ignore[return-value]


def forecast(
    treatment: Treatment,
    params: Parameters | None = None,
    catalog: Catalog | None = None,
    history: list[Episode] | None = None,
    current: Episode | None = None,
) -> Forecast:
    """Forecast one treatment, personalised by the patient's earlier treatments and scores if given; ``current``
    is this treatment's own episode in the history (its follow-up scores so far), if it has one."""
    return forecast_many([treatment], params, catalog, [history or []], currents=[current])[0]


def summarise(
    treatments: list[Treatment], cohort: Cohorts, relative_doses: list[float], *, with_curve: bool = True
) -> list[Forecast]:
    """The forecasts of treatments from their cohorts (a batch, one group per treatment: population or a
    patient's posterior)."""
    q = list(QUANTILES)
    responders = cohort.responders()
    onset_days = np.exp(np.linspace(np.log(0.25), np.log(60.0), 400))
    with np.errstate(divide="ignore", invalid="ignore"):
        onset = cohort.onset_cdf(onset_days) / np.maximum(responders, 1e-12)[:, None]
    none_mild = cohort.reaching("none_mild")
    band = cohort.effect_quantiles(CURVE_DAYS, q) if with_curve else np.empty((cohort.size, 0, 3))
    peak_days = cohort.peak_day_quantiles(q)
    at_peak = cohort.rated_share(peak_days[:, 1:2], "inv", 0, none_or_mild=True, nodes=PEAK_SHARE_NODES)[:, 0]
    wear_off, none_mild_until, none_mild_back = solve_quantiles(
        [
            cohort.quantile_problem([0.05, 0.25, 0.5, 0.75, 0.95], among_responders=False),
            cohort.quantile_problem(q, "none_mild", among_responders=False),
            none_mild.quantile_problem(q),
        ]
    )
    out = []
    for a, t in enumerate(treatments):
        onset_iv = np.interp(q, onset[a], onset_days) if responders[a] > 0 else np.full(3, np.nan)
        out.append(
            Forecast(
                treatment=t,
                relative_dose=relative_doses[a],
                response_share=float(responders[a]),
                none_mild_at_peak=float(at_peak[a]),
                onset_day=Interval.maybe(onset_iv),
                peak_day=Interval.of(peak_days[a]),
                wear_off_day=Interval.of(wear_off[a, [0, 2, 4]]),
                wear_off_quartiles=(float(wear_off[a, 1]), float(wear_off[a, 3])),
                none_mild_until_day=Interval.of(none_mild_until[a]),
                none_mild_back_at_baseline_day=Interval.maybe(none_mild_back[a]),
                curve=EffectCurve(
                    days=CURVE_DAYS.tolist() if with_curve else [],
                    median=band[a, :, 1].tolist(),
                    lower90=band[a, :, 0].tolist(),
                    upper90=band[a, :, 2].tolist(),
                ),
            )
        )
    return out
