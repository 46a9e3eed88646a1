r"""The regression design of a clinic's durations: numeric covariates for :class:`wearoff.survival.IntervalAFT`.

With :math:`\log T = \beta_0 + x^\top\beta + b_{\text{patient}} + \sigma\varepsilon`, a covariate's
:math:`e^{\beta_j}` is a *time ratio*: how many times longer the treatment lasts per unit of :math:`x_j`.

=====================  ==================================================================================
column                 meaning
=====================  ==================================================================================
``log_relative_dose``  :math:`\log(\text{ona-equivalent units}/\text{area reference units})` (0 at the
                       reference dose; :math:`e^{\beta}` is the time ratio per *e*-fold dose, and
                       :math:`2^{\beta}` per doubling)
``male``               1 for men (reference: women)
``activity_low``,      patient activity (reference: moderate)
``activity_high``
``prior_treatments``   earlier treatments of the area within a year (conditioning), per treatment
``area_<code>``        area indicator (reference: the clinic's most treated area)
``product_<code>``     product indicator (reference: onabotulinumtoxinA when treated, else the most used)
=====================  ==================================================================================

Indicators of levels the clinic never (or always) uses are left out, since they cannot be estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Design", "aft_design"]

REFERENCE_PRODUCT = "onabotulinumtoxinA"


@dataclass
class Design:
    """The model frame (``lower``, ``upper``, covariates, ``patient_id``), covariate names and their labels."""

    frame: pd.DataFrame
    covariates: list[str]
    labels: dict[str, str]
    reference_area: str
    reference_product: str


def _indicators(values: pd.Series, prefix: str, reference: str) -> dict[str, pd.Series]:
    out = {}
    for level in sorted(values.unique()):
        if level == reference:
            continue
        column = (values == level).astype(float)
        if 0.0 < column.mean() < 1.0:
            out[f"{prefix}_{level}"] = column
    return out


def aft_design(table: pd.DataFrame) -> Design:
    """Covariate columns for the durations ``table`` of :func:`wearoff.analytics.treatment_durations`."""
    if table.empty:
        raise ValueError(
            "no durations to model: no treatment has both a scored untreated severity and a clinician follow-up "
            "score; record them at the visits"
        )
    reference_area = str(table["area"].value_counts().idxmax())
    products = table["product"]
    reference_product = (
        REFERENCE_PRODUCT if (products == REFERENCE_PRODUCT).any() else str(products.value_counts().idxmax())
    )
    columns: dict[str, pd.Series] = {"log_relative_dose": table["log_relative_dose"].astype(float)}
    labels = {"log_relative_dose": "dose, per e-fold of ona-equivalent units over the area's reference"}
    candidates = {
        "male": ((table["sex"] == "male").astype(float), "men vs women"),
        "activity_low": ((table["activity"] == "low").astype(float), "low vs moderate activity"),
        "activity_high": ((table["activity"] == "high").astype(float), "high vs moderate activity"),
        "prior_treatments": (table["prior_treatments"].astype(float), "per earlier treatment of the area in a year"),
    }
    for name, (column, label) in candidates.items():
        if column.std() > 0:
            columns[name], labels[name] = column, label
    for name, column in _indicators(table["area"], "area", reference_area).items():
        columns[name], labels[name] = column, f"area {name[5:]} vs {reference_area}"
    for name, column in _indicators(products, "product", reference_product).items():
        columns[name], labels[name] = column, f"{name[8:]} vs {reference_product}"
    covariates = [c for c in columns if pd.Series(columns[c]).std() > 0]
    frame = pd.DataFrame({"lower": table["lower"], "upper": table["upper"], **columns})
    frame["patient_id"] = table["patient_id"].astype(str)
    return Design(frame, covariates, {c: labels[c] for c in covariates}, reference_area, reference_product)
