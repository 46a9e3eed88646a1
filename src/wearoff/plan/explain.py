"""Explanations and advice: what each factor does to a forecast, in days, and how strong its evidence is.

**Explanation.** Starting from the patient's forecast, each factor is switched to its reference (a woman of
moderate activity, the area's reference dose of onabotulinumtoxinA, a first treatment, no antibodies, no
personal history) one at a time; the change of the median wear-off day is that factor's share. One-at-a-time
shares need not add up to the difference from the reference patient, which is given too.

**Advice.** Counterfactual treatments the clinician could choose (more units, a longer-lasting product, lower
activity) with the change of the median wear-off day each would bring, capped by the label maxima.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from wearoff.catalog import Catalog, load_catalog
from wearoff.model.forecast import forecast
from wearoff.model.parameters import Parameters, load_parameters, load_priors
from wearoff.model.personal import Episode
from wearoff.model.treatment import Treatment

REFERENCE_PRODUCT = "onabotulinumtoxinA"


@dataclass(frozen=True)
class Effect:
    """A factor's or an alternative's change of the median wear-off day, with its evidence."""

    factor: str
    description: str
    days: float
    evidence: str
    weak: bool


def _median(t: Treatment, params: Parameters, catalog: Catalog, history: list[Episode] | None) -> float:
    return forecast(t, params, catalog, history).wear_off_day.median


def _strength(*names: str) -> tuple[str, bool]:
    priors = load_priors()
    parts = [priors.prior(n) for n in names]
    return "; ".join(p.source for p in parts), any(p.weak for p in parts)


def explain(
    t: Treatment,
    history: list[Episode] | None = None,
    params: Parameters | None = None,
    catalog: Catalog | None = None,
) -> tuple[float, float, list[Effect]]:
    """(median wear-off day, the reference patient's, per-factor effects) for a treatment."""
    params = params or load_parameters()
    catalog = catalog or load_catalog()
    t = t.validated(catalog)
    actual = _median(t, params, catalog, history)
    reference_units = catalog.area(t.area).reference_units.value
    reference = Treatment(REFERENCE_PRODUCT, t.area, reference_units, baseline_severity=t.baseline_severity)
    effects: list[Effect] = []

    def share(
        factor: str, description: str, changed: Treatment, names: tuple[str, ...], with_history: bool = True
    ) -> None:
        source, weak = _strength(*names) if names else ("the patient's own scores", False)
        delta = actual - _median(changed, params, catalog, history if with_history else None)
        effects.append(Effect(factor, description, delta, source, weak))

    potency = catalog.product(t.product).ona_units_per_unit.value
    ona_units = t.units * potency
    if abs(ona_units - reference_units) > 1e-9:
        share(
            "units",
            f"{t.units:g} U instead of the reference {reference_units / potency:g} U",
            replace(t, units=reference_units / potency),
            ("beta_dose", "log_ec50"),
        )
    if t.product != REFERENCE_PRODUCT:
        share(
            "product",
            f"{t.product} instead of {REFERENCE_PRODUCT} at equivalent units",
            replace(t, product=REFERENCE_PRODUCT, units=ona_units),
            (f"product_duration.{t.product}",),
        )
    if t.sex == "male":
        share("sex", "male (men need more toxin)", replace(t, sex="female"), ("male_need",))
    if t.activity != "moderate":
        share(
            "activity",
            f"{t.activity} physical activity",
            replace(t, activity="moderate"),
            (f"patient_activity_{t.activity}",),
        )
    if t.prior_treatments:
        share(
            "conditioning",
            f"{t.prior_treatments} earlier regular treatments",
            replace(t, prior_treatments=0),
            ("conditioning_per_treatment",),
        )
    if t.antibody_fraction:
        share(
            "antibodies",
            f"{100 * t.antibody_fraction:.0f} % of the dose neutralised",
            replace(t, antibody_fraction=0.0),
            (),
        )
    if history:
        share("history", "this patient's earlier treatments and scores", t, (), with_history=False)
    return actual, _median(reference, params, catalog, None), effects


def advise(
    t: Treatment,
    history: list[Episode] | None = None,
    params: Parameters | None = None,
    catalog: Catalog | None = None,
) -> list[Effect]:
    """Alternatives that would lengthen the effect, each with its gain in days (label maxima respected)."""
    params = params or load_parameters()
    catalog = catalog or load_catalog()
    t = t.validated(catalog)
    actual = _median(t, params, catalog, history)
    area = catalog.area(t.area)
    potency = catalog.product(t.product).ona_units_per_unit.value
    advice: list[Effect] = []

    def option(factor: str, description: str, changed: Treatment, names: tuple[str, ...]) -> None:
        source, weak = _strength(*names)
        advice.append(Effect(factor, description, _median(changed, params, catalog, history) - actual, source, weak))

    max_units = area.label_max_units.value / potency
    more = float(round(min(t.units * 2, max_units)))
    if more > t.units * 1.05:
        option("units", f"{more:g} U instead of {t.units:g} U", replace(t, units=more), ("beta_dose", "log_ec50"))
    if t.product != "daxibotulinumtoxinA":
        daxi = catalog.product("daxibotulinumtoxinA")
        units = float(round(t.units * potency / daxi.ona_units_per_unit.value))
        option(
            "product",
            f"daxibotulinumtoxinA {units:g} U (equivalent units)",
            replace(t, product="daxibotulinumtoxinA", units=units),
            ("product_duration.daxibotulinumtoxinA",),
        )
    if t.activity == "high":
        option(
            "activity",
            "less strenuous exercise (moderate activity)",
            replace(t, activity="moderate"),
            ("patient_activity_high",),
        )
    return sorted(advice, key=lambda e: -e.days)
