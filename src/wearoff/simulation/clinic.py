r"""A synthetic clinic: patients, treatments and follow-up scores drawn from the model, with the true wear-off.

Each patient gets the model's random effects (sensitivity :math:`z_E`, duration effect :math:`z_b`, and a
fresh :math:`\varepsilon` per treatment, :mod:`wearoff.model.personal`), a product, one to three areas and a
baseline severity per area. Treatments follow one another as clinics book them: half the patients come back at
a fixed 13-14 weeks, the others when they see the effect gone (a few weeks after wear-off), never sooner than
the product's label interval. Scores are drawn with the rater model: a clinician's at each treatment and at a
2-week review (most patients), the patient's own now and then through the follow-up link. The records end with
the period: nothing is dated after it.

Everything is drawn from one :class:`numpy.random.Generator` built from the seed: the same seed gives the same
clinic.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from wearoff.catalog import Catalog, load_catalog
from wearoff.model import curve
from wearoff.model.cohort import treatment_terms
from wearoff.model.parameters import Parameters, load_parameters
from wearoff.model.personal import duration_spreads
from wearoff.model.ratings import rated_severity
from wearoff.model.treatment import Treatment, covariates_for
from wearoff.records.values import AreaHistory, AssessmentRecord, PatientHistory, PatientInfo, TreatmentRecord

PRODUCT_SHARES = {
    "onabotulinumtoxinA": 0.45,
    "abobotulinumtoxinA": 0.2,
    "incobotulinumtoxinA": 0.2,
    "prabotulinumtoxinA": 0.08,
    "daxibotulinumtoxinA": 0.07,
}
AREA_CHANCES = {"glabellar": 0.9, "lateral_canthal": 0.5, "forehead": 0.4, "masseter": 0.05}
ACTIVITY_SHARES = {"low": 0.25, "moderate": 0.5, "high": 0.25}
DOSE_STEPS = (0.75, 1.0, 1.0, 1.25, 1.5)
MALE_DOSE_FACTOR = 1.6
START = date(2023, 1, 2)
FIXED_SCHEDULE_SHARE = 0.5
"""Patients re-booked on a fixed schedule; the others come back when they see the effect gone."""
FIXED_SCHEDULE_DAYS = (91, 98)
"""First and last day of the fixed re-booking (13-14 weeks), drawn evenly between them."""


@dataclass
class SimulatedClinic:
    """Tables in the CSV contract of the records, and the truth the records do not show."""

    patients: list[dict] = field(default_factory=list)
    treatments: list[dict] = field(default_factory=list)
    assessments: list[dict] = field(default_factory=list)
    truth: list[dict] = field(default_factory=list)


def _choice(rng: np.random.Generator, shares: dict[str, float]) -> str:
    keys = list(shares)
    p = np.array([shares[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def simulate_clinic(
    patients: int,
    years: float,
    seed: int,
    params: Parameters | None = None,
    catalog: Catalog | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    fixed_schedule_share: float = FIXED_SCHEDULE_SHARE,
    fixed_schedule_days: tuple[int, int] = FIXED_SCHEDULE_DAYS,
) -> SimulatedClinic:
    """Draw a clinic of ``patients`` treated over ``years`` (see the module docstring); the booking policy is
    ``fixed_schedule_share`` of patients re-booked between ``fixed_schedule_days`` whatever their wear-off, the
    others coming back when they see it gone."""
    params = params or load_parameters()
    catalog = catalog or load_catalog()
    rng = np.random.default_rng(seed)
    sigma_b, sigma_w = duration_spreads(params)
    gamma, shape = math.exp(params["log_gamma"]), math.exp(params["log_rise_shape"])
    visibility = math.exp(params["log_visibility"])
    end = START + timedelta(days=int(365.25 * years))
    out = SimulatedClinic()
    treatment_no = 0
    for i in range(1, patients + 1):
        pid = f"P{i:05d}"
        sex = "male" if rng.random() < 0.13 else "female"
        activity = _choice(rng, ACTIVITY_SHARES)
        out.patients.append(
            {"patient_id": pid, "sex": sex, "birth_year": int(rng.integers(1950, 2003)), "activity": activity}
        )
        z_e, z_b = rng.normal(), rng.normal()
        product = _choice(rng, PRODUCT_SHARES)
        potency = catalog.product(product).ona_units_per_unit.value
        label_interval = int(catalog.product(product).label_min_interval_days.value)
        fixed_schedule = rng.random() < fixed_schedule_share
        areas = [a for a, chance in AREA_CHANCES.items() if rng.random() < chance] or ["glabellar"]
        for area in areas:
            ref = catalog.area(area).reference_units.value * (MALE_DOSE_FACTOR if sex == "male" else 1.0)
            units = round(ref * DOSE_STEPS[int(rng.integers(len(DOSE_STEPS)))] / potency)
            baseline = int(rng.choice([2, 3]))
            day = START + timedelta(days=int(rng.integers(0, 365)))
            n_prior = 0
            while day < end:
                treatment_no += 1
                tid = f"T{treatment_no:07d}"
                t = Treatment(
                    product,
                    area,
                    float(units),
                    sex=sex,
                    activity=activity,
                    prior_treatments=n_prior,
                    baseline_severity=baseline,
                )
                terms = treatment_terms(params, covariates_for([t], params, catalog))
                peak = float(terms.peak(np.array([z_e]))[0, 0])
                tau = math.exp(float(terms.log_tau_mean[0]) + sigma_b * z_b + sigma_w * rng.normal())
                onset = math.exp(float(terms.onset_log_mean[0]) + math.exp(params["log_onset_sd"]) * rng.normal())
                wear_off = float(
                    curve.wear_off_day(np.array(peak), np.array(tau), np.array(baseline), gamma, visibility)
                )
                out.treatments.append(
                    {
                        "treatment_id": tid,
                        "patient_id": pid,
                        "date": day.isoformat(),
                        "product": product,
                        "area": area,
                        "units": units,
                    }
                )
                out.truth.append(
                    {"treatment_id": tid, "patient_id": pid, "area": area, "true_wear_off_day": round(wear_off, 2)}
                )

                def improvement(d: float, *, _peak=peak, _onset=onset, _tau=tau, _b=float(baseline)) -> float:
                    e = curve.effect(np.array(d), peak=_peak, onset_day=_onset, tau=_tau, gamma=gamma, shape=shape)
                    return float(curve.improvement(e, np.array(_b), visibility))

                if n_prior == 0:  # the pre-treatment score of a first treatment
                    out.assessments.append(
                        {
                            "patient_id": pid,
                            "area": area,
                            "date": day.isoformat(),
                            "severity": int(rated_severity(rng, 0.0, baseline, "inv", params)),
                            "rater": "clinician",
                        }
                    )
                first, last = fixed_schedule_days
                gap = (
                    first + int(rng.integers(0, last - first + 1))
                    if fixed_schedule
                    else max(label_interval, int(wear_off + rng.integers(7, 42)))
                )
                if rng.random() < 0.8:
                    d = int(rng.integers(12, 17))
                    out.assessments.append(
                        {
                            "patient_id": pid,
                            "area": area,
                            "date": (day + timedelta(days=d)).isoformat(),
                            "severity": int(rated_severity(rng, improvement(d), baseline, "inv", params)),
                            "rater": "clinician",
                        }
                    )
                d = 45 + int(rng.integers(0, 30))
                while d < gap:
                    if rng.random() < 0.5:
                        out.assessments.append(
                            {
                                "patient_id": pid,
                                "area": area,
                                "date": (day + timedelta(days=d)).isoformat(),
                                "severity": int(rated_severity(rng, improvement(d), baseline, "subj", params)),
                                "rater": "patient",
                            }
                        )
                    d += 21 + int(rng.integers(0, 21))
                next_day = day + timedelta(days=gap)
                if next_day < end:  # the clinician's score before the next treatment
                    out.assessments.append(
                        {
                            "patient_id": pid,
                            "area": area,
                            "date": next_day.isoformat(),
                            "severity": int(rated_severity(rng, improvement(gap), baseline, "inv", params)),
                            "rater": "clinician",
                        }
                    )
                day, n_prior = next_day, n_prior + 1
        if progress:
            progress(1)
    # the records end with the period: scores a patient would give after it are not (yet) recorded
    out.assessments = [a for a in out.assessments if a["date"] < end.isoformat()]
    out.assessments.sort(key=lambda a: (a["patient_id"], a["area"], a["date"]))
    return out


TRUTH_FILE = "truth.csv"
TABLES = {
    "patients.csv": ("patients", ("patient_id", "sex", "birth_year", "activity")),
    "treatments.csv": ("treatments", ("treatment_id", "patient_id", "date", "product", "area", "units")),
    "assessments.csv": ("assessments", ("patient_id", "area", "date", "severity", "rater")),
    TRUTH_FILE: ("truth", ("treatment_id", "patient_id", "area", "true_wear_off_day")),
}


def write_clinic(clinic: SimulatedClinic, folder: Path) -> list[Path]:
    """Write the clinic in the records' CSV contract, and the truth in ``truth.csv`` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (attribute, columns) in TABLES.items():
        path = folder / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(getattr(clinic, attribute))
        written.append(path)
    return written


def histories(clinic: SimulatedClinic) -> list[PatientHistory]:
    """The simulated records as the planner reads them from a clinic's database (patient-id order)."""
    areas: dict[str, dict[str, AreaHistory]] = {p["patient_id"]: {} for p in clinic.patients}
    for t in sorted(clinic.treatments, key=lambda t: (t["date"], t["area"], t["treatment_id"])):
        area = areas[t["patient_id"]].setdefault(t["area"], AreaHistory(t["area"]))
        area.treatments.append(
            TreatmentRecord(
                t["treatment_id"], date.fromisoformat(t["date"]), t["product"], t["area"], float(t["units"])
            )
        )
    for a in sorted(clinic.assessments, key=lambda a: (a["date"], a["area"], a["rater"])):
        area = areas[a["patient_id"]].setdefault(a["area"], AreaHistory(a["area"]))
        area.assessments.append(AssessmentRecord(date.fromisoformat(a["date"]), a["area"], a["severity"], a["rater"]))
    return [
        PatientHistory(
            PatientInfo(p["patient_id"], p["sex"], p["birth_year"], p["activity"]),
            dict(sorted(areas[p["patient_id"]].items())),
        )
        for p in sorted(clinic.patients, key=lambda p: p["patient_id"])
    ]
