"""Input checks shared by the survival fitters; every failure is a ``ValueError`` that says what to fix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["as_bounds", "check_columns", "numeric_column"]


def _first_rows(mask: np.ndarray, index: Sequence | None = None, k: int = 5) -> str:
    rows = np.flatnonzero(mask)[:k]
    labels = [index[i] for i in rows] if index is not None else rows.tolist()
    more = " ..." if mask.sum() > k else ""
    return f"{int(mask.sum())} row(s), e.g. {labels}{more}"


def check_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise if ``df`` is not a DataFrame or lacks any of ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the data has {list(df.columns)}")


def numeric_column(df: pd.DataFrame, name: str, what: str) -> np.ndarray:
    """Column ``name`` as float64, refusing non-numeric dtypes, NaN and infinities."""
    col = df[name]
    if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
        raise ValueError(
            f"{what} {name!r} must be numeric (dtype is {col.dtype}); encode categories as 0/1 indicator columns"
        )
    values = col.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"{what} {name!r} has missing or infinite values in {_first_rows(bad, df.index)}")
    return values


def as_bounds(
    lower: object, upper: object, index: Sequence | None = None, names: tuple[str, str] = ("lower", "upper")
) -> tuple[np.ndarray, np.ndarray]:
    """Validate interval bounds in days and return them as float64 arrays.

    Rules: both numeric and not NaN; ``lower`` finite and ``>= 0``; ``upper > 0`` (``inf`` = right-censored);
    ``lower <= upper``.
    """
    ln, un = names
    arrays = []
    for name, values in ((ln, lower), (un, upper)):
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ValueError(f"{name} must be numeric (got dtype {arr.dtype})")
        arrays.append(arr.astype(float, copy=False))
    lo, hi = arrays
    if lo.shape != hi.shape:
        raise ValueError(f"{ln} and {un} differ in length ({lo.size} vs {hi.size})")
    if lo.size == 0:
        raise ValueError("no rows to fit")
    for name, arr in ((ln, lo), (un, hi)):
        nan = np.isnan(arr)
        if nan.any():
            raise ValueError(f"{name} is missing (NaN) in {_first_rows(nan, index)}; drop or fill those rows")
    if np.isinf(lo).any():
        raise ValueError(f"{ln} must be finite; found infinity in {_first_rows(np.isinf(lo), index)}")
    neg = (lo < 0) | (hi < 0)
    if neg.any():
        raise ValueError(f"times must be >= 0; negative {ln} or {un} in {_first_rows(neg, index)}")
    swapped = lo > hi
    if swapped.any():
        raise ValueError(f"{ln} > {un} in {_first_rows(swapped, index)}; each row must satisfy {ln} <= {un}")
    zero = hi == 0
    if zero.any():
        raise ValueError(f"{un} must be > 0 (an event at time 0 has no duration) in {_first_rows(zero, index)}")
    return lo, hi
