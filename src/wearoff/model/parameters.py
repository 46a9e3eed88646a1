"""Population parameters of the duration model: their priors (with sources) and the fitted values shipped.

Every parameter is an unconstrained real number; spreads and scales are stored as logarithms (``log_*``).
Per-area and per-product offsets are *families*: ``area_need.forehead``, ``product_duration.daxibotulinumtoxinA``.
A family member that the calibration did not fit (an area or product absent from the evidence) takes the
family's prior mean, and :meth:`Parameters.is_fitted` says so, so explanations can mark it weak.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

REFERENCE_AREA = "glabellar"
REFERENCE_PRODUCT = "onabotulinumtoxinA"
FAMILIES = ("area_need", "area_duration", "product_need", "product_duration", "product_onset")


@dataclass(frozen=True)
class Prior:
    """Normal prior of one parameter, with its provenance."""

    name: str
    mean: float
    sd: float
    fit: bool
    source: str
    meaning: str = ""
    unit: str = ""
    weak: bool = False


@dataclass(frozen=True)
class PriorSet:
    """The scalar priors and the family priors read from ``priors.toml``."""

    scalars: dict[str, Prior]
    families: dict[str, Prior]

    def prior(self, name: str) -> Prior:
        """The prior of a scalar (``log_ec50``) or of a family member (``area_need.forehead``)."""
        if name in self.scalars:
            return self.scalars[name]
        family, _, code = name.partition(".")
        if code and family in self.families:
            base = self.families[family]
            return Prior(name, base.mean, base.sd, True, base.source, base.meaning, base.unit, base.weak)
        raise KeyError(f"no prior for parameter {name!r}")

    def fitted_names(self, areas: Iterable[str], products: Iterable[str]) -> list[str]:
        """Names of the parameters a calibration on these areas and products fits, in a stable order."""
        names = [n for n, p in self.scalars.items() if p.fit]
        areas = sorted(set(areas) - {REFERENCE_AREA})
        products = sorted(set(products) - {REFERENCE_PRODUCT, "placebo"})
        names += [f"area_need.{a}" for a in areas] + [f"area_duration.{a}" for a in areas]
        for family in ("product_need", "product_duration", "product_onset"):
            names += [f"{family}.{p}" for p in products]
        return names


def _parse_priors(doc: Mapping[str, Any]) -> PriorSet:
    scalars: dict[str, Prior] = {}
    families: dict[str, Prior] = {}
    for name, body in doc.items():
        if name == "family":
            for fam, fbody in body.items():
                families[fam] = Prior(
                    fam,
                    float(fbody["mean"]),
                    float(fbody["sd"]),
                    True,
                    fbody["source"],
                    fbody.get("meaning", ""),
                    fbody.get("unit", ""),
                    bool(fbody.get("weak", False)),
                )
            continue
        scalars[name] = Prior(
            name,
            float(body["mean"]),
            float(body["sd"]),
            bool(body["fit"]),
            body["source"],
            body.get("meaning", ""),
            body.get("unit", ""),
            bool(body.get("weak", False)),
        )
    missing = set(FAMILIES) - set(families)
    if missing:
        raise ValueError(f"priors.toml lacks the families {sorted(missing)}")
    return PriorSet(scalars, families)


@cache
def load_priors() -> PriorSet:
    """The priors shipped with the package."""
    text = resources.files("wearoff.data").joinpath("priors.toml").read_text(encoding="utf-8")
    return _parse_priors(tomllib.loads(text))


@dataclass(frozen=True, eq=False)
class Covariance:
    """Approximate posterior covariance of fitted values (Laplace: the inverse of the negative log posterior's
    curvature at its maximum), in the order of ``names``. Compared by identity (it holds an array).

    The matrix is held at the six significant figures it is stored with, so a covariance just computed and the
    same one read back from a file give the same bands to the last digit (the draws of
    :func:`wearoff.model.arms.posterior_displacements` follow its eigenvectors)."""

    names: tuple[str, ...]
    matrix: np.ndarray

    def __post_init__(self) -> None:
        stored = [[float(f"{v:.6g}") for v in row] for row in np.asarray(self.matrix, float)]
        object.__setattr__(self, "matrix", np.array(stored, float).reshape(np.shape(self.matrix)))

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "matrix": self.matrix.tolist()}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Covariance:
        return cls(tuple(doc["names"]), np.asarray(doc["matrix"], float))


@dataclass(frozen=True)
class Parameters:
    """A full set of population parameter values.

    ``values`` holds the fitted parameters; every other scalar falls back on its prior mean and every
    family member on its family's prior mean. ``provenance`` records how the values were obtained.
    """

    values: dict[str, float]
    priors: PriorSet = field(default_factory=load_priors, repr=False)
    provenance: dict[str, Any] = field(default_factory=dict, repr=False)
    covariance: Covariance | None = field(default=None, repr=False)

    def __getitem__(self, name: str) -> float:
        if name in self.values:
            return self.values[name]
        return self.priors.prior(name).mean

    def family(self, family: str, code: str) -> float:
        """A family member's value (0 for the reference area and product)."""
        return self[f"{family}.{code}"]

    def is_fitted(self, name: str) -> bool:
        """Whether the calibration fitted this parameter (False: it is its prior mean)."""
        return name in self.values

    def with_values(self, updates: Mapping[str, float]) -> Parameters:
        """A copy with the given values changed or added."""
        return replace(self, values={**self.values, **dict(updates)})

    def with_covariance(self, covariance: Covariance) -> Parameters:
        """A copy carrying the posterior covariance of its fitted values."""
        return replace(self, covariance=covariance)

    def to_dict(self) -> dict[str, Any]:
        """The values, provenance and covariance as plain JSON types."""
        doc: dict[str, Any] = {"values": self.values, "provenance": self.provenance}
        if self.covariance is not None:
            doc["covariance"] = self.covariance.to_dict()
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Parameters:
        """The inverse of :meth:`to_dict`."""
        covariance = Covariance.from_dict(doc["covariance"]) if "covariance" in doc else None
        return cls(
            {k: float(v) for k, v in doc["values"].items()}, load_priors(), dict(doc.get("provenance", {})), covariance
        )

    def to_json(self) -> str:
        """Serialise the values, provenance and covariance (the shipped ``parameters.json``)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Parameters:
        return cls.from_dict(json.loads(text))

    @classmethod
    def prior_means(cls) -> Parameters:
        """Parameters at their prior means (before calibration)."""
        return cls({})


PARAMETERS_FILE = "parameters.json"


def shipped_parameters_path() -> Path:
    """Where the calibrated parameter file lives inside the installed package."""
    return Path(str(resources.files("wearoff.data").joinpath(PARAMETERS_FILE)))


@cache
def load_parameters() -> Parameters:
    """The calibrated parameters shipped with the package (prior means if none were calibrated yet)."""
    path = shipped_parameters_path()
    if not path.exists():
        return Parameters.prior_means()
    return Parameters.from_json(path.read_text(encoding="utf-8"))
