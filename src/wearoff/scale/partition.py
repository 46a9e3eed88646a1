r"""What a worker does with one partition of an interval-censored data set: pure functions of arrays.

A partition is one Parquet file. A worker reads it once (:func:`load_partition`), the client combines the
partitions' covariate moments (:func:`partition_moments`, :func:`combine_moments`), the worker builds the
standardised design once (:func:`prepare_partition`) and then evaluates, at every parameter vector the optimiser
asks for, the sums of the negative log-likelihood, its gradient and Hessian over its rows
(:func:`partition_nll`) or over its groups (:func:`partition_grouped_nll`). Because the log-likelihood is a sum
over independent rows (over groups with a random intercept), the sums of the partitions add up to the full-data
value exactly, up to the order of floating-point additions.

Standardisation
---------------
The design is :math:`Z = [1, (x_j - \bar x_j)/s_j]` with the mean :math:`\bar x_j` and the population standard
deviation :math:`s_j = \sqrt{M_{2,j}/n}` of the *whole* data set, exactly as
:class:`wearoff.survival.IntervalAFT` standardises in memory. Partition moments :math:`(n_k, \bar x_k, M_{2,k})`
are merged with the parallel update of Chan, Golub and LeVeque (1979):

.. math::

    n = n_a + n_b,\quad \delta = \bar x_b - \bar x_a,\quad \bar x = \bar x_a + \delta\,n_b/n,\quad
    M_2 = M_{2,a} + M_{2,b} + \delta^2 n_a n_b / n,

which is as accurate as the two-pass formula (no :math:`\sum x^2 - n\bar x^2` cancellation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from wearoff.survival._validation import as_bounds, numeric_column
from wearoff.survival.families import Family, get_family
from wearoff.survival.likelihood import (
    KIND_EXACT,
    KIND_INTERVAL,
    KIND_LEFT,
    KIND_NONE,
    KIND_RIGHT,
    LikelihoodSums,
    PreparedTimes,
    nll_prepared,
    prepare_chunks,
    prepare_times,
    row_kinds,
)
from wearoff.survival.random_effects import GroupedSums, adapt_quadrature, grouped_nll_prepared

__all__ = [
    "Moments",
    "PreparedPartition",
    "RawPartition",
    "combine_moments",
    "load_partition",
    "partition_grouped_nll",
    "partition_moments",
    "partition_nll",
    "partition_start_sums",
    "prepare_partition",
    "sum_all",
]

KIND_NAMES = {KIND_EXACT: "exact", KIND_INTERVAL: "interval", KIND_LEFT: "left", KIND_RIGHT: "right",
              KIND_NONE: "uninformative"}  # fmt: skip


@dataclass
class RawPartition:
    """One partition as read: validated bounds, raw covariates ``(n, q)`` and group labels (or ``None``)."""

    source: str
    lower: np.ndarray
    upper: np.ndarray
    X: np.ndarray
    groups: np.ndarray | None


@dataclass
class Moments:
    """Row count, per-kind counts, covariate means and sums of squared deviations, and group labels."""

    n: int
    kinds: dict[str, int]
    mean: np.ndarray
    m2: np.ndarray
    group_labels: np.ndarray | None = None
    sources: list[str] = field(default_factory=list)

    @property
    def sd(self) -> np.ndarray:
        """Population standard deviation :math:`\\sqrt{M_2/n}` (``numpy.std`` with ``ddof=0``)."""
        return np.sqrt(self.m2 / self.n) if self.n else np.zeros_like(self.m2)


@dataclass
class PreparedPartition:
    """A partition ready for the likelihood: standardised design, bounds, their prepared blocks (sorted by kind,
    logs taken: once, not at every evaluation), group codes (times for the quadrature)."""

    Z: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    chunks: list[tuple[slice, PreparedTimes]]
    groups: np.ndarray | None
    labels: np.ndarray | None
    times: PreparedTimes | None

    @property
    def n_groups(self) -> int:
        return 0 if self.labels is None else len(self.labels)


def load_partition(
    source: str,
    filesystem: Any,
    lower_col: str,
    upper_col: str,
    covariates: list[str],
    group_col: str | None,
) -> RawPartition:
    """Read one Parquet file and validate it with the rules of the in-memory fitter (errors name the file)."""
    columns = [lower_col, upper_col, *covariates] + ([group_col] if group_col else [])
    try:
        df = pq.read_table(source, columns=columns, filesystem=filesystem).to_pandas()
        for name in (lower_col, upper_col):
            numeric_ok = pd.api.types.is_numeric_dtype(df[name]) and not pd.api.types.is_bool_dtype(df[name])
            if not numeric_ok:
                raise ValueError(f"interval bound {name!r} must be numeric days (dtype is {df[name].dtype})")
        lower, upper = as_bounds(
            df[lower_col].to_numpy(), df[upper_col].to_numpy(), index=df.index, names=(lower_col, upper_col)
        )
        X = np.empty((len(df), len(covariates)))
        for j, name in enumerate(covariates):
            X[:, j] = numeric_column(df, name, "covariate")
        groups = None
        if group_col is not None:
            groups = df[group_col].to_numpy()
            missing = pd.isna(groups)
            if missing.any():
                raise ValueError(f"group column {group_col!r} has missing values in {int(missing.sum())} row(s)")
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from exc
    return RawPartition(source, lower, upper, X, groups)


def _moments_of(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if x.shape[0] == 0:
        return np.zeros(x.shape[1]), np.zeros(x.shape[1])
    mean = x.mean(axis=0)
    return mean, ((x - mean) ** 2).sum(axis=0)


def partition_moments(part: RawPartition) -> Moments:
    """Counts by row kind, covariate moments and the distinct group labels of one partition."""
    kind = row_kinds(part.lower, part.upper)
    counts = np.bincount(kind, minlength=KIND_NONE + 1)
    mean, m2 = _moments_of(part.X)
    labels = None if part.groups is None else pd.unique(part.groups)
    return Moments(part.lower.size, {KIND_NAMES[k]: int(counts[k]) for k in KIND_NAMES}, mean, m2, labels,
                   [part.source])  # fmt: skip


def combine_moments(a: Moments, b: Moments) -> Moments:
    """Merge two partitions' moments (parallel update; see the module docstring)."""
    n = a.n + b.n
    if a.n == 0 or b.n == 0:
        mean, m2 = (b.mean, b.m2) if a.n == 0 else (a.mean, a.m2)
    else:
        delta = b.mean - a.mean
        mean = a.mean + delta * (b.n / n)
        m2 = a.m2 + b.m2 + delta**2 * (a.n * b.n / n)
    kinds = {k: a.kinds[k] + b.kinds[k] for k in a.kinds}
    labels = None
    if a.group_labels is not None and b.group_labels is not None:
        labels = np.concatenate([a.group_labels, b.group_labels])
    return Moments(n, kinds, mean, m2, labels, a.sources + b.sources)


def prepare_partition(part: RawPartition, means: np.ndarray, sds: np.ndarray) -> PreparedPartition:
    """Build :math:`Z = [1, (x - \\bar x)/s]` with the global moments (rows in the file's order)."""
    Z = np.empty((part.lower.size, part.X.shape[1] + 1))
    Z[:, 0] = 1.0
    Z[:, 1:] = (part.X - means) / sds
    groups = labels = times = None
    if part.groups is not None:
        codes, labels = pd.factorize(part.groups, sort=True)
        groups = codes.astype(np.intp)
        labels = np.asarray(labels)
        times = prepare_times(part.lower, part.upper)
    return PreparedPartition(Z, part.lower, part.upper, prepare_chunks(part.lower, part.upper), groups, labels, times)


def _representative(lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A log-time per row (the log-midpoint; a bound +- log 2 when censored) and its weight (0 for ``(0, inf)``),
    the least-squares start of the in-memory fitter."""
    kind = row_kinds(lower, upper)
    r = np.zeros(lower.size)
    log2 = math.log(2.0)
    with np.errstate(divide="ignore"):
        log_lo, log_hi = np.log(lower), np.log(upper)
    for k, value in (
        (KIND_EXACT, log_hi),
        (KIND_INTERVAL, 0.5 * (log_lo + log_hi)),
        (KIND_RIGHT, log_lo + log2),
        (KIND_LEFT, log_hi - log2),
    ):
        sel = kind == k
        r[sel] = value[sel]
    w = (kind != KIND_NONE).astype(float)
    return r, w


def partition_start_sums(part: PreparedPartition) -> tuple[np.ndarray, np.ndarray, float]:
    """:math:`Z^\\top W Z`, :math:`Z^\\top W r` and :math:`r^\\top W r` of the least-squares start (``W`` drops
    uninformative rows; see :func:`wearoff.survival.aft.start_from_sums`)."""
    r, w = _representative(part.lower, part.upper)
    return part.Z.T @ (part.Z * w[:, None]), part.Z.T @ (w * r), float(w @ (r * r))


def partition_nll(part: PreparedPartition, theta: np.ndarray, family: str | Family) -> LikelihoodSums:
    """Sums over the partition's rows of the negative log-likelihood, gradient and Hessian at ``theta``."""
    return nll_prepared(theta, part.Z, part.chunks, get_family(family), order=2)


def partition_grouped_nll(
    part: PreparedPartition,
    theta: np.ndarray,
    family: str | Family,
    n_nodes: int,
    start: np.ndarray | None,
) -> tuple[GroupedSums, np.ndarray]:
    """Sums over the partition's groups of the random-intercept likelihood at ``theta``, with the quadrature
    adapted here (warm-started from ``start``, this partition's previous modes); returns the sums and the modes."""
    fam = get_family(family)
    p = part.Z.shape[1]
    quad = adapt_quadrature(
        fam, part.Z @ theta[:p], float(theta[p]), float(theta[p + 1]), part.times, part.groups, part.n_groups,
        n_nodes, start=start,
    )  # fmt: skip
    out = grouped_nll_prepared(theta, part.Z, part.times, part.groups, part.n_groups, fam, quad, order=2)
    return out, quad.modes


def sums_only(result: tuple[GroupedSums, np.ndarray] | LikelihoodSums) -> LikelihoodSums:
    """The additive part of a partition's result (drops per-group arrays before they travel)."""
    sums = result[0] if isinstance(result, tuple) else result
    return LikelihoodSums(sums.value, sums.gradient, sums.hessian, sums.n_rows)


def sum_all(parts: list[Any]) -> Any:
    """Add partition results with ``+`` (the reduction step)."""
    total = parts[0]
    for item in parts[1:]:
        total = total + item
    return total


def posterior_of(part: PreparedPartition, result: tuple[GroupedSums, np.ndarray]) -> pd.DataFrame:
    """The partition's groups with their posterior mean and SD of the random intercept."""
    sums = result[0]
    return pd.DataFrame({"label": part.labels, "mean": sums.posterior_mean, "sd": sums.posterior_sd})
