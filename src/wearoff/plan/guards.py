"""Safety guards on a proposed treatment, and antibody suspicion from a patient's history.

Each guard returns a :class:`Flag` with a reason a clinician can act on and the source of its rule:

* ``booster``: the same area treated less than ``BOOSTER_DAYS`` ago (antibody risk);
* ``short_interval``: less than ``MIN_INTERVAL_DAYS`` (12 weeks) since the area's last treatment;
* ``session_cap``: more than ``CAP_UNITS`` onabotulinumtoxinA-equivalent units within ``CAP_WINDOW_DAYS``;
* ``above_label``: more units than the area's label (or consensus) maximum;
* ``under_dose``: clearly fewer units than the area's typical range for the patient's sex;
* ``antibody_suspected``: successive treatments of an area wore off sooner and sooner, or one showed no
  response at its review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Literal

from wearoff.catalog import Catalog, load_catalog
from wearoff.records.values import AssessmentRecord, TreatmentRecord

BOOSTER_DAYS = 21
MIN_INTERVAL_DAYS = 84
CAP_UNITS = 400.0
CAP_WINDOW_DAYS = 90
REVIEW_DAYS = (10, 35)
SHRINKING_RUN = 3
SHRINK_RATIO = 0.75
UNDER_DOSE_SHARE = 0.8
"""A dose is an under-dose below this share of the typical range's low end: the unit equivalences between
products are uncertain by about that much (evidence README: ona:abo 1:2.5 to 1:3)."""
SOURCE_ANTIBODIES = (
    "evidence README: antibody risk rises with retreatment within about 3 weeks (boosters), intervals under "
    "3 months, higher doses per session and cumulative dose; the first sign is a shorter effect, then no response"
)
SOURCE_CAP = "evidence README: not more than 400 U (onabotulinumtoxinA) in a 3-month interval"
SOURCE_INTERVAL = "evidence README and labels: not more often than every 3 months"

Level = Literal["stop", "warn", "info"]


@dataclass(frozen=True)
class Flag:
    """A guard that fired: a code, how serious, what to tell the clinician, and the rule's source."""

    code: str
    level: Level
    message: str
    source: str


def _ona_units(t: TreatmentRecord, catalog: Catalog) -> float:
    units = t.units * catalog.product(t.product).ona_units_per_unit.value
    return units * (2 if catalog.area(t.area).units_are == "per_side" else 1)


def check_treatment(
    proposed: TreatmentRecord, sex: str, earlier: list[TreatmentRecord], catalog: Catalog | None = None
) -> list[Flag]:
    """Guards on a proposed treatment given the patient's earlier treatments (all areas)."""
    catalog = catalog or load_catalog()
    flags: list[Flag] = []
    area = catalog.area(proposed.area)
    product = catalog.product(proposed.product)
    same_area = [t for t in earlier if t.area == proposed.area and t.date <= proposed.date]
    if same_area:
        last = max(same_area, key=lambda t: t.date)
        gap = (proposed.date - last.date).days
        if gap < BOOSTER_DAYS:
            flags.append(
                Flag(
                    "booster",
                    "warn",
                    f"{area.label}: a booster {gap} days after the last treatment ({last.date}); touch-ups "
                    f"within {BOOSTER_DAYS} days raise the risk of neutralising antibodies",
                    SOURCE_ANTIBODIES,
                )
            )
        elif gap < MIN_INTERVAL_DAYS:
            flags.append(
                Flag(
                    "short_interval",
                    "warn",
                    f"{area.label}: {gap} days since the last treatment ({last.date}), under 12 weeks; the "
                    f"{product.code} label allows one every {product.label_min_interval_days.value:g} days",
                    SOURCE_INTERVAL,
                )
            )
    window_start = proposed.date - timedelta(days=CAP_WINDOW_DAYS)
    recent = [t for t in earlier if window_start < t.date <= proposed.date]
    total = sum(_ona_units(t, catalog) for t in [*recent, proposed])
    if total > CAP_UNITS:
        flags.append(
            Flag(
                "session_cap",
                "stop",
                f"{total:.0f} onabotulinumtoxinA-equivalent units within {CAP_WINDOW_DAYS} days, above "
                f"{CAP_UNITS:.0f} U; reduce the dose or wait",
                SOURCE_CAP,
            )
        )
    ona = proposed.units * product.ona_units_per_unit.value
    side = " a side" if area.units_are == "per_side" else ""
    if ona > area.label_max_units.value:
        flags.append(
            Flag(
                "above_label",
                "warn",
                f"{area.label}: {ona:.0f} onabotulinumtoxinA-equivalent units{side}, above the "
                f"{area.label_max_units.value:g} U maximum",
                area.label_max_units.source,
            )
        )
    typical = area.typical_units_male if sex == "male" else area.typical_units_female
    if product.is_toxin and ona < UNDER_DOSE_SHARE * typical.low:
        flags.append(
            Flag(
                "under_dose",
                "warn",
                f"{area.label}: {ona:.0f} onabotulinumtoxinA-equivalent units{side}, below the typical "
                f"{typical.low:g}-{typical.high:g} U for a {sex} patient: expect a weaker, shorter effect",
                typical.source,
            )
        )
    return flags


def observed_wear_off_days(
    treatments: list[TreatmentRecord], scores: list[AssessmentRecord], baseline: int
) -> list[tuple[TreatmentRecord, int | None, bool]]:
    """Per treatment of one area (in date order): the first day a score was back at baseline (None if none was),
    and whether its review (days 10-35, clinician) showed no improvement at all."""
    ordered = sorted(treatments, key=lambda t: t.date)
    out = []
    for i, t in enumerate(ordered):
        until = ordered[i + 1].date if i + 1 < len(ordered) else date.max
        after = sorted((s for s in scores if t.date < s.date < until), key=lambda s: s.date)
        back = next(((s.date - t.date).days for s in after if s.severity >= baseline and s.rater == "clinician"), None)
        reviews = [
            s for s in after if REVIEW_DAYS[0] <= (s.date - t.date).days <= REVIEW_DAYS[1] and s.rater == "clinician"
        ]
        no_response = bool(reviews) and all(s.severity >= baseline for s in reviews)
        out.append((t, back, no_response))
    return out


def antibody_suspicion(
    treatments: list[TreatmentRecord],
    scores: list[AssessmentRecord],
    baseline: int | None,
    catalog: Catalog | None = None,
) -> Flag | None:
    """Suspect neutralising antibodies when an area stopped responding, or wore off sooner at each of its last
    ``SHRINKING_RUN`` treatments, ending below ``SHRINK_RATIO`` of the first of them."""
    if baseline is None or not treatments:
        return None
    course = observed_wear_off_days(treatments, scores, baseline)
    area = (catalog or load_catalog()).area(treatments[0].area).label
    for t, _, no_response in course:
        if no_response:
            return Flag(
                "antibody_suspected",
                "warn",
                f"{area}: no improvement at the review after the treatment of {t.date}; consider neutralising "
                "antibodies (check technique and product storage first)",
                SOURCE_ANTIBODIES,
            )
    days = [d for _, d, _ in course if d is not None]
    if len(days) >= SHRINKING_RUN:
        run = days[-SHRINKING_RUN:]
        if all(b < a for a, b in pairwise(run)) and run[-1] < SHRINK_RATIO * run[0]:
            return Flag(
                "antibody_suspected",
                "warn",
                f"{area}: each of the last {SHRINKING_RUN} treatments wore off sooner ({', '.join(map(str, run))}"
                " days); consider neutralising antibodies, longer intervals and no boosters",
                SOURCE_ANTIBODIES,
            )
    return None
