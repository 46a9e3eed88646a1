r"""Per-row log-likelihood of interval-censored AFT data, its gradient and Hessian, as pure functions of arrays.

Model
-----
:math:`\log T_i = \mu_i + \sigma\varepsilon_i`, :math:`\mu_i = x_i^\top\beta`, :math:`\sigma = e^{s}`, with
:math:`\varepsilon` from a :class:`~wearoff.survival.families.Family`. A row gives ``lower`` :math:`l` and ``upper``
:math:`u` (in days) and contributes

=====================  ===================  ================================================================
row                    kind                 :math:`\ell_i`
=====================  ===================  ================================================================
:math:`l = u`          exact event          :math:`\log f_T(u) = g(z_u) - s - \log u` (density *in days*)
:math:`u = \infty`     right-censored       :math:`\log S(z_l)`
:math:`l = 0`          left-censored        :math:`\log F(z_u) = \log(1 - S(z_u))`
:math:`0 < l < u`      interval-censored    :math:`\log(S(z_l) - S(z_u))`
:math:`l=0, u=\infty`  uninformative        :math:`0`
=====================  ===================  ================================================================

with :math:`z_l = (\log l - \mu_i)/\sigma` and :math:`z_u = (\log u - \mu_i)/\sigma`. This is the definition
lifelines uses in ``fit_interval_censoring`` (log-hazard minus cumulative hazard at exact times, which is the
log-density in days, and the log of the survival difference otherwise), so log-likelihoods compare directly.

Derivatives
-----------
Every row depends on the parameters only through :math:`(\mu_i, s)`, so each row reduces to a gradient and a
:math:`2\times2` Hessian in :math:`(\mu, s)`, assembled into the full ones by
:math:`\nabla_\beta = X^\top \ell_\mu`, :math:`\nabla^2_{\beta\beta} = X^\top\mathrm{diag}(\ell_{\mu\mu})X`,
:math:`\nabla^2_{\beta s} = X^\top \ell_{\mu s}`.
For a censored row write :math:`D = S(z_l) - S(z_u)` (with :math:`S(-\infty)=1, S(\infty)=0`),
:math:`w_k = f(z_k)/D` and signed weights :math:`a_l = w_l`, :math:`a_u = -w_u` (a missing endpoint has
:math:`a = 0`). With :math:`\partial z/\partial\mu = -1/\sigma` and :math:`\partial z/\partial s = -z`:

.. math::

    \ell_\mu = \frac{1}{\sigma}\sum_k a_k,\qquad \ell_s = \sum_k a_k z_k,

    \frac{D_{\mu\mu}}{D} = -\frac{1}{\sigma^2}\sum_k a_k g'_k,\quad
    \frac{D_{\mu s}}{D} = -\frac{1}{\sigma}\sum_k a_k (z_k g'_k + 1),\quad
    \frac{D_{ss}}{D} = -\sum_k a_k (z_k + z_k^2 g'_k),

and :math:`\ell_{ab} = D_{ab}/D - \ell_a\ell_b`. For an exact row,
:math:`\ell_\mu = -g'/\sigma`, :math:`\ell_s = -z g' - 1`, :math:`\ell_{\mu\mu} = g''/\sigma^2`,
:math:`\ell_{\mu s} = (z g'' + g')/\sigma`, :math:`\ell_{ss} = z^2 g'' + z g'`.

Distributed use
---------------
:func:`negative_log_likelihood` returns *sums* over the rows it is given (value, gradient, Hessian, row count) in a
:class:`LikelihoodSums`, which add with ``+``. A distributed engine (the planned ``wearoff fit --engine dask``) calls it
once per Parquet partition with the same parameter vector and design convention and adds the results; the total is
exactly the full-data result because the log-likelihood is a sum over independent rows (so is its gradient and
Hessian; a Newton step on the driver needs nothing else). All partitions must use the same design convention: the
driver fixes the columns and, if it standardises covariates, the means and SDs, before the first pass. Random-effect
models are additive over *groups* instead (see :mod:`wearoff.survival.random_effects`), which is the same thing as
long as no group is split across partitions.

Memory
------
Rows are evaluated in blocks of :data:`CHUNK_ROWS`, so apart from the data the working set is a few block-sized
arrays and the per-row log-times; the fitter also builds each block of its standardised design on the fly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from wearoff.survival.families import Family, get_family

__all__ = [
    "CHUNK_ROWS",
    "KIND_EXACT",
    "KIND_INTERVAL",
    "KIND_LEFT",
    "KIND_NONE",
    "KIND_RIGHT",
    "DesignBlocks",
    "LikelihoodSums",
    "PreparedTimes",
    "RowTerms",
    "negative_log_likelihood",
    "prepare_chunks",
    "prepare_times",
    "row_terms",
    "weighted_gram",
]

KIND_EXACT, KIND_RIGHT, KIND_LEFT, KIND_INTERVAL, KIND_NONE = 0, 1, 2, 3, 4
_KINDS = (KIND_EXACT, KIND_RIGHT, KIND_LEFT, KIND_INTERVAL)
_GRAM_CHUNK = 16_384
#: rows per block in :func:`nll_prepared` (per-row temporaries stay in cache)
CHUNK_ROWS = 16_384


@dataclass(frozen=True)
class PreparedTimes:
    """Row kinds and log-times of an interval-censored sample, computed once and reused at every evaluation.

    ``rows[kind]`` selects the rows of each kind (a ``slice`` when the rows are sorted by kind, which the fitter
    arranges, else an index array); ``log_lo[kind]`` / ``log_hi[kind]`` hold the log-bounds of those rows.
    """

    n: int
    rows: dict[int, slice | np.ndarray]
    log_lo: dict[int, np.ndarray]
    log_hi: dict[int, np.ndarray]
    kind: np.ndarray

    @property
    def has_uninformative(self) -> bool:
        """Whether some rows are ``(0, inf)``, which carry no information."""
        return bool(self.kind.size) and int(self.kind.max()) == KIND_NONE

    @property
    def sum_log_exact(self) -> float:
        """:math:`\\sum \\log t` over exact rows (the change of variables from log-days to days)."""
        return float(self.log_hi[KIND_EXACT].sum())


def row_kinds(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    r"""Kind code of each row: exact (``lower == upper``), right (``upper = inf``), left (``lower = 0``), interval.

    A row with ``lower = 0`` and ``upper = inf`` says nothing (:math:`\ell = 0`) and gets ``KIND_NONE``.
    """
    kind = np.full(lower.shape, KIND_INTERVAL, dtype=np.int8)
    lower_zero = lower == 0.0
    upper_inf = np.isinf(upper)
    kind[lower_zero] = KIND_LEFT
    kind[upper_inf] = KIND_RIGHT
    kind[lower_zero & upper_inf] = KIND_NONE
    kind[lower == upper] = KIND_EXACT
    return kind


def prepare_times(lower: np.ndarray, upper: np.ndarray) -> PreparedTimes:
    """Classify rows and take logs. ``lower``/``upper`` must already be valid (see the fitter's validation)."""
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    kind = row_kinds(lower, upper)
    sorted_by_kind = lower.size < 2 or bool(np.all(kind[1:] >= kind[:-1]))
    rows: dict[int, slice | np.ndarray] = {}
    log_lo: dict[int, np.ndarray] = {}
    log_hi: dict[int, np.ndarray] = {}
    if sorted_by_kind:
        bounds = np.searchsorted(kind, np.arange(KIND_NONE + 1), side="left")
    with np.errstate(divide="ignore"):
        for k in _KINDS:
            sel = (
                slice(int(bounds[k]), int(bounds[k + 1]))
                if sorted_by_kind
                else np.flatnonzero(kind == k).astype(np.int32 if lower.size < 2**31 else np.int64)
            )
            rows[k] = sel
            log_lo[k] = np.log(lower[sel])
            log_hi[k] = np.log(upper[sel])
    return PreparedTimes(n=lower.size, rows=rows, log_lo=log_lo, log_hi=log_hi, kind=kind)


@dataclass
class RowTerms:
    r"""Per-row log-likelihood :math:`\ell_i` and its derivatives in :math:`(\mu_i, s)`; ``None`` if not computed."""

    ll: np.ndarray
    d_mu: np.ndarray | None = None
    d_s: np.ndarray | None = None
    d_mumu: np.ndarray | None = None
    d_mus: np.ndarray | None = None
    d_ss: np.ndarray | None = None


def _censored_terms(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]], sigma: float, order: int, mu_only: bool
) -> tuple[np.ndarray | None, ...]:
    """Derivatives of censored rows from their endpoints ``(z_k, a_k, g'_k)``, see the module docstring."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        if len(parts) == 1:
            ((z, a, gp),) = parts
            d_mu = a / sigma
            d_s = None if mu_only else z * a
            if order < 2:
                return d_mu, d_s, None, None, None
            agp = a * gp
            d_mumu = -agp / sigma**2 - d_mu * d_mu
            if mu_only:
                return d_mu, None, d_mumu, None, None
            zagp = z * agp
            d_mus = -(zagp + a) / sigma - d_mu * d_s
            d_ss = -(z * a + z * zagp) - d_s * d_s
            return d_mu, d_s, d_mumu, d_mus, d_ss
        (z1, a1, g1), (z2, a2, g2) = parts
        d_mu = (a1 + a2) / sigma
        d_s = None if mu_only else z1 * a1 + z2 * a2
        if order < 2:
            return d_mu, d_s, None, None, None
        ag1, ag2 = a1 * g1, a2 * g2
        d_mumu = -(ag1 + ag2) / sigma**2 - d_mu * d_mu
        if mu_only:
            return d_mu, None, d_mumu, None, None
        zag1, zag2 = z1 * ag1, z2 * ag2
        d_mus = -(zag1 + a1 + zag2 + a2) / sigma - d_mu * d_s
        d_ss = -(z1 * (a1 + zag1) + z2 * (a2 + zag2)) - d_s * d_s
    return d_mu, d_s, d_mumu, d_mus, d_ss


def row_terms(
    family: Family,
    mu: np.ndarray,
    log_scale: float,
    times: PreparedTimes,
    order: int = 1,
    mu_only: bool = False,
) -> RowTerms:
    r"""Per-row :math:`\ell_i` (and derivatives up to ``order`` in :math:`(\mu_i, s)`) at location ``mu``.

    ``mu`` has one entry per row of ``times``; ``mu_only`` skips the :math:`s`-derivatives (used when adapting
    random-effect quadrature, where only the location moves).
    """
    sigma = float(np.exp(log_scale))
    n = times.n
    want = order >= 1
    # rows of KIND_NONE are not visited and keep the zeros they start with
    alloc = np.zeros if times.has_uninformative else np.empty
    ll = alloc(n)
    out = {
        "d_mu": alloc(n) if want else None,
        "d_s": alloc(n) if want and not mu_only else None,
        "d_mumu": alloc(n) if order >= 2 else None,
        "d_mus": alloc(n) if order >= 2 and not mu_only else None,
        "d_ss": alloc(n) if order >= 2 and not mu_only else None,
    }
    inv_sigma = 1.0 / sigma
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        for kind in _KINDS:
            sel = times.rows[kind]
            m = mu[sel]
            if m.size == 0:
                continue
            lo, hi = times.log_lo[kind], times.log_hi[kind]
            if kind == KIND_EXACT:
                z = (hi - m) * inv_sigma
                g, gp, gpp = family.exact(z, order)
                ll[sel] = g - log_scale - hi
                if not want:
                    continue
                out["d_mu"][sel] = -gp * inv_sigma
                if not mu_only:
                    out["d_s"][sel] = -z * gp - 1.0
                if order >= 2:
                    out["d_mumu"][sel] = gpp * inv_sigma**2
                    if not mu_only:
                        out["d_mus"][sel] = (z * gpp + gp) * inv_sigma
                        out["d_ss"][sel] = z * (z * gpp + gp)
                continue
            if kind == KIND_RIGHT:
                z = (lo - m) * inv_sigma
                lk, w, gp = family.right(z, order)
                parts = [(z, w, gp)]
            elif kind == KIND_LEFT:
                z = (hi - m) * inv_sigma
                lk, w, gp = family.left(z, order)
                parts = [(z, -w if want else None, gp)]
            else:
                z_lo, z_hi = (lo - m) * inv_sigma, (hi - m) * inv_sigma
                lk, w_lo, w_hi, gp_lo, gp_hi = family.interval(z_lo, z_hi, order)
                parts = [(z_lo, w_lo, gp_lo), (z_hi, -w_hi if want else None, gp_hi)]
            ll[sel] = lk
            if not want:
                continue
            terms = _censored_terms(parts, sigma, order, mu_only)
            for name, value in zip(("d_mu", "d_s", "d_mumu", "d_mus", "d_ss"), terms, strict=True):
                if value is not None and out[name] is not None:
                    out[name][sel] = value
    return RowTerms(ll=ll, **out)


def weighted_gram(X: np.ndarray, w: np.ndarray, chunk: int = _GRAM_CHUNK) -> np.ndarray:
    r""":math:`X^\top \mathrm{diag}(w) X`, accumulated over row blocks so no :math:`n\times p` temporary is made."""
    p = X.shape[1]
    out = np.zeros((p, p))
    for start in range(0, X.shape[0], chunk):
        xb = X[start : start + chunk]
        out += xb.T @ (xb * w[start : start + chunk, None])
    return out


@dataclass
class LikelihoodSums:
    """Sums over rows of the negative log-likelihood, its gradient and Hessian; add partitions with ``+``."""

    value: float
    gradient: np.ndarray | None
    hessian: np.ndarray | None
    n_rows: int

    def __add__(self, other: LikelihoodSums) -> LikelihoodSums:
        def _add(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
            return None if a is None or b is None else a + b

        return LikelihoodSums(
            value=self.value + other.value,
            gradient=_add(self.gradient, other.gradient),
            hessian=_add(self.hessian, other.hessian),
            n_rows=self.n_rows + other.n_rows,
        )

    def __radd__(self, other: object) -> LikelihoodSums:
        if other == 0:  # lets sum() start from 0
            return self
        return NotImplemented


def prepare_chunks(
    lower: np.ndarray, upper: np.ndarray, chunk_size: int = CHUNK_ROWS
) -> list[tuple[slice, PreparedTimes]]:
    """Split rows into consecutive blocks of ``chunk_size`` and prepare each (see :func:`nll_prepared`)."""
    n = len(lower)
    return [
        (slice(i, min(i + chunk_size, n)), prepare_times(lower[i : i + chunk_size], upper[i : i + chunk_size]))
        for i in range(0, n, chunk_size)
    ]


class DesignBlocks(Protocol):
    """Anything that hands out row blocks of a design matrix (lets the fitter avoid an ``n x p`` copy)."""

    def block(self, rows: slice) -> np.ndarray: ...


def nll_prepared(
    params: np.ndarray,
    X: np.ndarray | DesignBlocks,
    chunks: list[tuple[slice, PreparedTimes]],
    family: Family,
    order: int = 1,
) -> LikelihoodSums:
    """:func:`negative_log_likelihood` on prepared row blocks (the fitter's hot loop).

    Rows are processed block by block so that every per-row temporary stays cache-sized: memory beyond the data is
    a few arrays of ``chunk_size`` rows, whatever the number of rows.
    """
    params = np.asarray(params, dtype=float)
    p = params.size - 1
    beta, log_scale = params[:p], float(params[p])
    get_block = X.block if hasattr(X, "block") else X.__getitem__
    value = 0.0
    grad_beta = np.zeros(p) if order >= 1 else None
    grad_s = 0.0
    h_bb = np.zeros((p, p)) if order >= 2 else None
    h_bs = np.zeros(p) if order >= 2 else None
    h_ss = 0.0
    n_rows = 0
    for sl, times in chunks:
        xb = get_block(sl)
        t = row_terms(family, xb @ beta, log_scale, times, order=order)
        value -= float(t.ll.sum())
        n_rows += times.n
        if order >= 1:
            grad_beta -= xb.T @ t.d_mu
            grad_s -= float(t.d_s.sum())
        if order >= 2:
            h_bb -= xb.T @ (xb * t.d_mumu[:, None])
            h_bs -= xb.T @ t.d_mus
            h_ss -= float(t.d_ss.sum())
    gradient = hessian = None
    if order >= 1:
        gradient = np.append(grad_beta, grad_s)
    if order >= 2:
        hessian = np.empty((p + 1, p + 1))
        hessian[:p, :p] = h_bb
        hessian[:p, p] = hessian[p, :p] = h_bs
        hessian[p, p] = h_ss
    return LikelihoodSums(value=value, gradient=gradient, hessian=hessian, n_rows=n_rows)


def negative_log_likelihood(
    params: np.ndarray,
    X: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    family: str | Family = "weibull",
    order: int = 1,
) -> LikelihoodSums:
    r"""Negative log-likelihood of an AFT model summed over the given rows, with gradient (``order >= 1``) and
    Hessian (``order >= 2``) in ``params``.

    Parameters
    ----------
    params:
        :math:`(\beta_1, \dots, \beta_p, \log\sigma)`: coefficients of the columns of ``X`` then the log-scale.
    X:
        design matrix ``(n, p)``; include a column of ones for an intercept.
    lower, upper:
        interval bounds in days (``upper = inf`` right-censored, ``lower = 0`` left-censored, equal = exact).
    family:
        ``"weibull"``, ``"loglogistic"`` or ``"lognormal"``.

    Returns sums, so the value for a data set split into partitions is the sum of the partitions' values.
    """
    X = np.asarray(X, dtype=float)
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    return nll_prepared(params, X, prepare_chunks(lower, upper), get_family(family), order=order)
