r"""Turnbull's nonparametric maximum likelihood estimate (NPMLE) of a survival curve from interval-censored data.

Observation :math:`i` says the event time lies in a set :math:`A_i` (an interval). The NPMLE puts all its mass on the
*innermost* (Turnbull) intervals :math:`J_1 < \dots < J_m`: intervals whose left end is an observed left end and whose
right end is the next observed right end, with no other endpoint between them (Turnbull, 1976). Each observation
covers a contiguous run :math:`J_{a_i}, \dots, J_{b_i}`, so with masses :math:`p_j` and cumulative sums
:math:`P_j = \sum_{k<j} p_k` the log-likelihood is

.. math::

    \ell(p) = \sum_i w_i \log\big(P_{b_i+1} - P_{a_i}\big),\qquad p \ge 0,\ \sum_j p_j = 1,

a concave problem. The EM (self-consistency) update is :math:`p_j \leftarrow p_j\, d_j / N` with
:math:`d_j = \sum_{i: a_i \le j \le b_i} w_i / (P_{b_i+1} - P_{a_i})` and :math:`N = \sum_i w_i`; the sums over
observations are done for all :math:`j` at once with a difference array (two ``bincount`` calls and a ``cumsum``),
:math:`O(n + m)` per iteration. EM steps are accelerated with SQUAREM (Varadhan and Roland, 2008, scheme S3, with a
monotonicity safeguard).

The estimate is computed by the constrained Newton method of Wang (2008) (see :func:`_cnm`), started from the
fewest Turnbull intervals that meet every observation, with SQUAREM-accelerated EM as a fallback. Convergence is
certified: by concavity, for any feasible :math:`q`,
:math:`\ell(q) - \ell(p) \le \nabla\ell(p)^\top(q - p) \le \max_j d_j - N` (because
:math:`\sum_j p_j d_j = N`). Iteration stops when this bound, divided by :math:`N`, is below ``tol`` (default
:math:`10^{-10}`); Newton's quadratic convergence usually leaves the last iterate far closer than that, at the
round-off level of the multipliers (about :math:`10^{-13} N`).

Interval conventions (``closed``)
--------------------------------
* ``"right"`` (default, as in the clinic records): an observation ``(l, u]`` means :math:`l < T \le u`, ``l == u``
  means :math:`T = l`; the curve reported is :math:`S(t) = P(T > t)`, which the NPMLE determines at every observed
  time (the ``_upper`` and ``_lower`` columns can only differ strictly inside a Turnbull interval).
* ``"both"``: observations are closed intervals ``[l, u]``, the convention of lifelines'
  ``KaplanMeierFitter.fit_interval_censoring``; the curve and its two columns follow lifelines exactly: at time
  :math:`t`, ``_upper`` counts the mass of every Turnbull interval :math:`[L_j, R_j]` with :math:`R_j \ge t` and
  ``_lower`` those with :math:`L_j \ge t`. The two conventions differ only when a left end of one observation equals
  a right end of another.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from wearoff.survival._validation import as_bounds

__all__ = ["TurnbullNPMLE", "TurnbullResult", "turnbull"]

Closed = Literal["right", "both"]
_OPEN, _RIGHT, _POINT = 2, 1, 0  # sort keys of endpoints at equal times: points, then right ends, then open lefts


@dataclass(frozen=True)
class TurnbullResult:
    """The NPMLE: Turnbull intervals with their masses and the fit diagnostics."""

    left: np.ndarray
    right: np.ndarray
    left_closed: np.ndarray
    probability: np.ndarray
    log_likelihood: float
    gap: float  #: certified bound on (maximum log-likelihood - log_likelihood)
    n_iter: int
    converged: bool
    closed: str
    times: np.ndarray  #: every observed bound, sorted: the timeline of the curves and their percentiles

    def percentile(self, p: float) -> float:
        """First observed time at which the upper curve is at most ``p`` (``inf`` if it never is), as lifelines."""
        hit = np.flatnonzero(self.survival_bounds(self.times)[0] <= p)
        return float(self.times[hit[0]]) if hit.size else float("inf")

    def survival_bounds(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Upper and lower bounds of the curve at ``times`` (see the module docstring for the two conventions)."""
        t = np.asarray(times, dtype=float)
        p = self.probability
        tail = np.concatenate([np.cumsum(p[::-1])[::-1], [0.0]])  # tail[j] = sum_{k >= j} p_k
        if self.closed == "both":
            upper = tail[np.searchsorted(self.right, t, side="left")]  # R_j >= t
            lower = tail[np.searchsorted(self.left, t, side="left")]  # L_j >= t
        else:
            upper = tail[np.searchsorted(self.right, t, side="right")]  # R_j > t
            # surely beyond t: open-left intervals with L_j >= t, point masses with L_j > t
            sure = np.where(self.left_closed, 0.0, p)
            sure_point = np.where(self.left_closed, p, 0.0)
            tail_open = np.concatenate([np.cumsum(sure[::-1])[::-1], [0.0]])
            tail_point = np.concatenate([np.cumsum(sure_point[::-1])[::-1], [0.0]])
            lower = (
                tail_open[np.searchsorted(self.left, t, side="left")]
                + tail_point[np.searchsorted(self.left, t, side="right")]
            )
        return np.clip(upper, 0.0, 1.0), np.clip(lower, 0.0, 1.0)


def _unique_pairs(lower: np.ndarray, upper: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.lexsort((upper, lower))
    lo, hi, w = lower[order], upper[order], weights[order]
    new = np.ones(lo.size, dtype=bool)
    new[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    starts = np.flatnonzero(new)
    return lo[starts], hi[starts], np.add.reduceat(w, starts)


def _innermost(lo: np.ndarray, hi: np.ndarray, closed: str) -> tuple[np.ndarray, ...]:
    """Turnbull intervals and, for each observation, the first and last Turnbull interval it contains."""
    n = lo.size
    left_key = np.full(n, _POINT, dtype=np.int8)
    if closed == "right":
        left_key[lo < hi] = _OPEN
    values = np.concatenate([lo, hi])
    keys = np.concatenate([left_key, np.full(n, _RIGHT, dtype=np.int8)])
    is_left = np.concatenate([np.ones(n, dtype=bool), np.zeros(n, dtype=bool)])
    order = np.lexsort((keys, values))
    v, k, il = values[order], keys[order], is_left[order]
    # dense rank of (value, key): equal endpoints share a rank
    change = np.ones(v.size, dtype=bool)
    change[1:] = (v[1:] != v[:-1]) | (k[1:] != k[:-1])
    rank_sorted = np.cumsum(change) - 1
    rank = np.empty(v.size, dtype=np.int64)
    rank[order] = rank_sorted
    obs_left_rank, obs_right_rank = rank[:n], rank[n:]
    pair = np.flatnonzero(il[:-1] & ~il[1:])  # a left end immediately followed by a right end
    tb_left, tb_right = v[pair], v[pair + 1]
    tb_left_closed = k[pair] == _POINT
    tb_left_rank, tb_right_rank = rank_sorted[pair], rank_sorted[pair + 1]
    a = np.searchsorted(tb_left_rank, obs_left_rank, side="left")
    b = np.searchsorted(tb_right_rank, obs_right_rank, side="right") - 1
    if np.any(a > b):  # cannot happen for valid intervals; guards the invariant the EM relies on
        raise RuntimeError("an observation contains no Turnbull interval")
    return tb_left, tb_right, tb_left_closed, a, b


def _loglik(p: np.ndarray, a: np.ndarray, b1: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    P = np.concatenate([[0.0], np.cumsum(p)])
    d = P[b1] - P[a]
    with np.errstate(divide="ignore"):
        return float(w @ np.log(d)), d


def _em_multiplier(d: np.ndarray, a: np.ndarray, b1: np.ndarray, w: np.ndarray, m: int) -> np.ndarray:
    """:math:`d_j = \\sum_{i \\ni j} w_i / D_i` for all Turnbull intervals via a difference array."""
    c = w / d
    diff = np.bincount(a, weights=c, minlength=m + 1) - np.bincount(b1, weights=c, minlength=m + 1)
    return np.cumsum(diff[:m])


def _em_step(p: np.ndarray, a: np.ndarray, b1: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float, float]:
    """One EM update; returns the new masses, the log-likelihood *before* the update and the gap bound there."""
    total = float(w.sum())
    ll, d = _loglik(p, a, b1, w)
    mult = _em_multiplier(d, a, b1, w, p.size)
    new = p * mult / total
    return new / new.sum(), ll, float(mult.max() - total)


def _squarem_em(
    p: np.ndarray, a: np.ndarray, b1: np.ndarray, w: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, int, float]:
    """SQUAREM-accelerated EM (scheme S3) until the gap bound is below ``tol`` or ``max_iter`` updates."""
    n_iter, gap = 0, np.inf
    while n_iter < max_iter:
        p1, _, gap = _em_step(p, a, b1, w)
        n_iter += 1
        if gap <= tol:
            return p, n_iter, gap
        p2, ll1, _ = _em_step(p1, a, b1, w)
        n_iter += 1
        r = p1 - p
        v = p2 - p1 - r
        vv = float(v @ v)
        alpha = min(-np.sqrt(float(r @ r) / vv), -1.0) if vv > 0.0 else -1.0
        # SQUAREM step; shrink towards the plain double EM step (alpha = -1, which gives p2) if it leaves the
        # simplex or does not improve on p1
        while True:
            if alpha == -1.0:
                p = p2
                break
            cand = p - 2.0 * alpha * r + alpha * alpha * v
            if np.all(cand >= 0.0) and np.all((cand > 0.0) | (p == 0.0)):
                cand, cand_ll, _ = _em_step(cand / cand.sum(), a, b1, w)  # a stabilising EM step
                n_iter += 1
                if cand_ll >= ll1:
                    p = cand
                    break
            alpha = (alpha - 1.0) / 2.0
            if alpha > -1.05:
                alpha = -1.0
    _, _, gap = _em_step(p, a, b1, w)
    return p, n_iter, gap


def _support_hessian(support: np.ndarray, a: np.ndarray, b1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """:math:`M = \\sum_i c2_i\\, e_i e_i^\\top` over support points, :math:`e_i` = support points that obs i covers.

    Obs :math:`i` covers the contiguous support positions ``[lo_i, hi_i]``, so
    :math:`M_{jk} = \\sum_{lo_i \\le j,\\ hi_i \\ge k} c2_i` for :math:`j \\le k`: a 2-D histogram of
    :math:`(lo_i, hi_i)` cumulated upwards in ``lo`` and downwards in ``hi``.
    """
    s = support.size
    lo = np.searchsorted(support, a, side="left")
    hi = np.searchsorted(support, b1, side="left") - 1
    ok = lo <= hi
    hist = np.bincount(lo[ok] * s + hi[ok], weights=c2[ok], minlength=s * s).reshape(s, s)
    cum = np.cumsum(np.cumsum(hist[:, ::-1], axis=1)[:, ::-1], axis=0)
    upper = np.triu(cum)
    return upper + np.triu(cum, 1).T


def _hitting_set(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Fewest Turnbull intervals such that every observation covers one of them (greedy by right end)."""
    order = np.argsort(b, kind="stable")
    a_sorted, b_sorted = a[order], b[order]
    # for the greedy scan: the smallest right end among observations starting after a point
    chosen = []
    last = -1
    while True:
        rest = np.flatnonzero(a_sorted > last)
        if rest.size == 0:
            break
        last = int(b_sorted[rest[0]])
        chosen.append(last)
    return np.asarray(chosen, dtype=np.intp)


def _simplex_qp(M: np.ndarray, c: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Minimise :math:`\\tfrac12 x^\\top M x - c^\\top x` subject to :math:`\\sum x = 0` and :math:`x \\ge`
    ``lower`` (``lower <= 0``, so :math:`x = 0` is feasible).

    Primal active-set method: on the free variables the KKT system
    :math:`\\begin{pmatrix}M_{FF} & 1\\\\ 1^\\top & 0\\end{pmatrix}\\binom{x_F}{\\lambda} =
    \\binom{c_F - M_{FB}x_B}{-1^\\top x_B}` is solved exactly; a variable whose step would cross its bound is fixed
    there, a fixed one with a negative Lagrangian gradient :math:`(Mx - c + \\lambda)_j` is released. Exact linear
    algebra resolves the tiny gradients that remain near the NPMLE, where tolerance-based solvers stop early.
    """
    k = c.size
    x = np.zeros(k)
    at_bound = lower == 0.0  # variables with zero mass start fixed at their bound
    if at_bound.all():
        at_bound[np.argmax(c)] = False
    lam = 0.0
    for _ in range(4 * k + 10):
        free = np.flatnonzero(~at_bound)
        bound = np.flatnonzero(at_bound)
        nf = free.size
        kkt = np.zeros((nf + 1, nf + 1))
        kkt[:nf, :nf] = M[np.ix_(free, free)]
        kkt[:nf, nf] = kkt[nf, :nf] = 1.0
        rhs = np.empty(nf + 1)
        rhs[:nf] = c[free] - M[np.ix_(free, bound)] @ x[bound]
        rhs[nf] = -x[bound].sum()
        sol = np.linalg.solve(kkt, rhs)
        target = x.copy()
        target[free] = sol[:nf]
        blocked = np.zeros(k, dtype=bool)
        blocked[free] = target[free] < lower[free]
        if blocked.any():
            # move towards the target until the first bound is hit and fix that variable
            ratio = (lower[blocked] - x[blocked]) / (target[blocked] - x[blocked])
            t = float(np.clip(ratio.min(), 0.0, 1.0))
            x = x + t * (target - x)
            hit = np.flatnonzero(blocked)[np.argmin(ratio)]
            x[hit] = lower[hit]
            at_bound[hit] = True
            continue
        x, lam = target, float(sol[nf])
        grad = M @ x - c + lam
        release = at_bound & (grad < 0.0)
        if not release.any():
            return x
        at_bound[np.flatnonzero(release)[np.argmin(grad[release])]] = False
    return x


def _cnm(
    p: np.ndarray, a: np.ndarray, b1: np.ndarray, w: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, int, float]:
    """Constrained Newton method (Wang, 2008, CSDA 52:2388) for the NPMLE.

    Each iteration adds every local maximum of the multipliers :math:`d_j` that exceeds :math:`N` to the support and
    maximises the second-order model of the Lagrangian :math:`\\ell(q) - N(\\sum_j q_j - 1)` around :math:`p`
    over the simplex on the support. With :math:`M = \\sum_i w_i e_i e_i^\\top / D_i^2` and :math:`Mp = d` on the
    support, the model in the increment :math:`\\Delta = q - p` is :math:`\\tfrac12\\Delta^\\top M\\Delta -
    (d - N)^\\top\\Delta` with :math:`\\sum\\Delta = 0`, :math:`p + \\Delta \\ge 0`, solved exactly by
    :func:`_simplex_qp`. An Armijo line search runs from :math:`p` towards :math:`q`, except when the predicted gain
    is below the floating-point resolution of :math:`\\ell`, where the full Newton step is taken. Points with zero
    mass leave the support. (Wang's CNM drops the sum constraint and normalises instead; keeping it makes the step an
    exact Newton step, which matters at the last digits.)
    """
    total = float(w.sum())
    gap = np.inf
    ll, d = _loglik(p, a, b1, w)
    for it in range(1, max_iter + 1):
        mult = _em_multiplier(d, a, b1, w, p.size)
        gap = float(mult.max() - total)
        if gap <= tol:
            return p, it, gap
        inner = mult[1:-1]
        peak = np.zeros(p.size, dtype=bool)
        peak[1:-1] = (inner >= mult[:-2]) & (inner >= mult[2:])
        peak[0] = p.size == 1 or mult[0] >= mult[1]
        peak[-1] = p.size == 1 or mult[-1] >= mult[-2]
        support = np.flatnonzero((p > 0.0) | (peak & (mult > total + tol)))
        M = _support_hessian(support, a, b1, w / d**2)
        M[np.diag_indices_from(M)] += 1e-14 * max(float(np.trace(M)), 1.0) / support.size
        # the model in the increment: min 1/2 D'MD - (d - N)'D subject to p + D >= 0 (M p = d on the support)
        c = mult[support] - total
        try:
            delta = _simplex_qp(M, c, -p[support])
        except np.linalg.LinAlgError:
            return p, it, gap
        q = p.copy()
        q[support] = np.maximum(p[support] + delta, 0.0)
        q /= q.sum()
        direction = q - p
        slope = float(c @ direction[support])  # directional derivative of l at p (sum(direction) = 0)
        if not slope > 0.0:
            return p, it, gap
        if slope < 1e-12 * max(1.0, abs(ll)):
            # the predicted gain is below the resolution of l: a line search cannot judge it, take the Newton step
            p = q
            ll, d = _loglik(p, a, b1, w)
            continue
        step = 1.0
        for _ in range(50):
            cand = p + step * direction
            cand[cand < 0.0] = 0.0
            cand /= cand.sum()
            cand_ll, cand_d = _loglik(cand, a, b1, w)
            if cand_ll >= ll + step * slope / 3.0:
                break
            step *= 0.5
        else:
            return p, it, gap
        p, ll, d = cand, cand_ll, cand_d
    mult = _em_multiplier(d, a, b1, w, p.size)
    return p, max_iter, float(mult.max() - total)


def turnbull(
    lower: object,
    upper: object,
    weights: object | None = None,
    closed: Closed = "right",
    tol: float = 1e-10,
    max_iter: int = 10_000,
) -> TurnbullResult:
    """Compute the Turnbull NPMLE from interval bounds (days; ``upper = inf`` for right-censored rows).

    ``tol`` bounds the log-likelihood distance to the maximum divided by the total weight (certified, see the module
    docstring); ``max_iter`` caps the iterations (constrained Newton, then accelerated EM if Newton stalls).
    """
    if closed not in ("right", "both"):
        raise ValueError("closed must be 'right' ((l, u] intervals) or 'both' ([l, u], lifelines' convention)")
    lo, hi = as_bounds(lower, upper)
    w = np.ones(lo.size) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != lo.shape or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError("weights must be positive finite numbers, one per row")
    ulo, uhi, uw = _unique_pairs(lo, hi, w)
    abs_tol = tol * float(uw.sum())
    tb_left, tb_right, tb_left_closed, a, b = _innermost(ulo, uhi, closed)
    b1 = b + 1

    m = tb_left.size
    p = np.zeros(m)
    p[_hitting_set(a, b)] = 1.0
    p /= p.sum()
    p, n_iter, gap = _cnm(p, a, b1, uw, abs_tol, max_iter)
    if gap > abs_tol and n_iter < max_iter:  # CNM stalled: finish with accelerated EM from a dense start
        p = 0.999 * p + 0.001 / m
        p, steps, gap = _squarem_em(p, a, b1, uw, abs_tol, max_iter - n_iter)
        n_iter += steps
    converged = gap <= abs_tol
    ll, _ = _loglik(p, a, b1, uw)
    return TurnbullResult(
        left=tb_left,
        right=tb_right,
        left_closed=tb_left_closed,
        probability=p,
        log_likelihood=ll,
        gap=gap,
        n_iter=n_iter,
        converged=converged,
        closed=closed,
        times=np.unique(np.concatenate([lo, hi])),
    )


class TurnbullNPMLE:
    """Fitter for the Turnbull NPMLE with lifelines-like outputs.

    Parameters
    ----------
    closed:
        ``"right"`` for ``(lower, upper]`` observations (default) or ``"both"`` for closed ``[lower, upper]``
        observations as in lifelines' ``KaplanMeierFitter.fit_interval_censoring``.
    tol, max_iter:
        certified tolerance on (maximum log-likelihood - attained) / total weight, and the iteration limit.
    label:
        prefix of the two curve columns (``<label>_upper``, ``<label>_lower``), lifelines' default.

    Fitted attributes: ``survival_function_`` and ``cumulative_density_`` (DataFrames indexed by every observed
    time, columns ``<label>_upper`` / ``<label>_lower``), ``intervals_`` (Turnbull intervals with their masses),
    ``log_likelihood_``, ``median_survival_time_``, ``n_iter_``, ``converged_``, ``result_``.
    """

    def __init__(
        self, closed: Closed = "right", tol: float = 1e-10, max_iter: int = 10_000, label: str = "NPMLE_estimate"
    ) -> None:
        self.closed = closed
        self.tol = tol
        self.max_iter = max_iter
        self.label = label

    def fit(self, lower: object, upper: object, weights: object | None = None) -> TurnbullNPMLE:
        """Fit to interval bounds in days (arrays or Series); returns ``self``."""
        res = turnbull(lower, upper, weights=weights, closed=self.closed, tol=self.tol, max_iter=self.max_iter)
        self.result_ = res
        self.timeline_ = res.times
        self.survival_function_ = self.predict(self.timeline_)
        self.cumulative_density_ = 1.0 - self.survival_function_
        self.intervals_ = pd.DataFrame(
            {"left": res.left, "right": res.right, "left_closed": res.left_closed, "probability": res.probability}
        )
        self.log_likelihood_ = res.log_likelihood
        self.n_iter_ = res.n_iter
        self.converged_ = res.converged
        self.median_survival_time_ = self.percentile(0.5)
        if not res.converged:
            warnings.warn(f"Turnbull EM stopped after {res.n_iter} iterations (gap {res.gap:.2e})", stacklevel=2)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "result_"):
            raise RuntimeError("this TurnbullNPMLE is not fitted yet; call fit() first")

    def predict(self, times: object) -> pd.DataFrame:
        """Bounds of the survival curve at ``times``: columns ``<label>_upper`` and ``<label>_lower``."""
        self._check_fitted()
        t = np.atleast_1d(np.asarray(times, dtype=float))
        upper, lower = self.result_.survival_bounds(t)
        return pd.DataFrame({f"{self.label}_upper": upper, f"{self.label}_lower": lower}, index=pd.Index(t))

    def percentile(self, p: float) -> float:
        """First observed time at which the upper curve is at most ``p`` (``inf`` if it never is), as lifelines."""
        self._check_fitted()
        return self.result_.percentile(p)
