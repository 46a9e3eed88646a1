r"""Interval-censored accelerated-failure-time regression, optionally with a normal random intercept per group.

.. math::

    \log T_i = \beta_0 + x_i^\top\beta + b_{g(i)} + \sigma\varepsilon_i,\qquad b_g \sim N(0, \tau^2),

with :math:`\varepsilon` Gumbel-min (Weibull), logistic (log-logistic) or normal (log-normal). The maximum
likelihood estimate is found by a trust-region Newton method (``scipy.optimize.minimize(method="trust-exact")``)
on analytic gradients and Hessians, with covariates centred and scaled internally; estimates, standard errors
(inverse observed information) and Wald intervals are reported on the original covariate scale.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import ndtr, ndtri

from wearoff.survival._validation import as_bounds, check_columns, numeric_column
from wearoff.survival.families import Family, get_family
from wearoff.survival.likelihood import (
    KIND_EXACT,
    KIND_INTERVAL,
    KIND_LEFT,
    KIND_NONE,
    KIND_RIGHT,
    PreparedTimes,
    nll_prepared,
    prepare_chunks,
    prepare_times,
    row_kinds,
)
from wearoff.survival.random_effects import (
    DEFAULT_NODES,
    GroupedSums,
    GroupQuadrature,
    adapt_quadrature,
    grouped_nll_prepared,
    marginal_survival,
)

__all__ = ["IntervalAFT"]

INTERCEPT = "intercept"
LOG_SCALE = "log_scale"
LOG_SIGMA_RE = "log_sigma_re"
_RESERVED = (INTERCEPT, LOG_SCALE, LOG_SIGMA_RE)

# mean and SD of the standard error distribution, for starting values
_MOMENTS = {"weibull": (-0.5772156649015329, math.pi / math.sqrt(6.0)), "loglogistic": (0.0, math.pi / math.sqrt(3.0))}


class _Design:
    """The standardised design :math:`Z = [1, (x - m)/s]`, built block by block from the covariate columns.

    The columns stay views of the caller's data, so a fit holds no ``n x p`` copy of the design; a block of
    ``CHUNK_ROWS`` rows is assembled when the likelihood needs it (cheap next to evaluating the row terms).
    """

    def __init__(self, columns: list[np.ndarray], means: np.ndarray, sds: np.ndarray, n: int) -> None:
        self.columns, self.means, self.sds, self.n = columns, means, sds, n

    @property
    def shape(self) -> tuple[int, int]:
        return self.n, len(self.columns) + 1

    def block(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(self.n)
        out = np.empty((stop - start, len(self.columns) + 1))
        out[:, 0] = 1.0
        for j, col in enumerate(self.columns):
            np.subtract(col[start:stop], self.means[j], out=out[:, j + 1])
            out[:, j + 1] /= self.sds[j]
        return out

    def full(self) -> np.ndarray:
        return self.block(slice(0, self.n))


class _Objective:
    """Caches value, gradient and Hessian of the scaled objective so each point is evaluated once."""

    def __init__(self, evaluate: Any, scale: float) -> None:
        self._evaluate = evaluate
        self._scale = scale
        self._key: bytes | None = None
        self._result: Any = None
        self.n_evaluations = 0

    def at(self, x: np.ndarray) -> Any:
        key = np.asarray(x, dtype=float).tobytes()
        if key != self._key:
            self._result = self._evaluate(np.array(x, dtype=float))
            self._key = key
            self.n_evaluations += 1
        return self._result

    def fun(self, x: np.ndarray) -> float:
        v = self.at(x).value
        return v * self._scale if np.isfinite(v) else np.inf

    def jac(self, x: np.ndarray) -> np.ndarray:
        return self.at(x).gradient * self._scale

    def hess(self, x: np.ndarray) -> np.ndarray:
        return self.at(x).hessian * self._scale


class _GroupedEvaluator:
    """Adapts the quadrature at every new point (warm-started), derivatives from the same fixed nodes."""

    def __init__(
        self, Z: np.ndarray, times: PreparedTimes, groups: np.ndarray, n_groups: int, family: Family, n_nodes: int
    ) -> None:
        self.Z, self.times, self.groups, self.n_groups = Z, times, groups, n_groups
        self.family, self.n_nodes = family, n_nodes
        self.modes: np.ndarray | None = None
        self.quadrature: GroupQuadrature | None = None

    def __call__(self, theta: np.ndarray) -> GroupedSums:
        p = self.Z.shape[1]
        eta, log_scale, log_tau = self.Z @ theta[:p], float(theta[p]), float(theta[p + 1])
        quad = adapt_quadrature(
            self.family, eta, log_scale, log_tau, self.times, self.groups, self.n_groups, self.n_nodes, self.modes
        )
        out = grouped_nll_prepared(theta, self.Z, self.times, self.groups, self.n_groups, self.family, quad, order=2)
        if np.isfinite(out.value) and np.all(np.isfinite(quad.modes)):
            self.modes = quad.modes
        self.quadrature = quad
        return out


def start_from_sums(gram: np.ndarray, rhs: np.ndarray, sum_sq: float, family: str) -> np.ndarray:
    r"""Starting values from the sums of a least-squares fit of a representative log-time *r* per row (the
    midpoint of an interval, a bound :math:`\pm\log 2` of a censored one): :math:`\gamma = G^{-1} b` with
    :math:`G = Z^\top W Z`, :math:`b = Z^\top W r`; the scale from the residual sum of squares
    :math:`r^\top W r - \gamma^\top b` over the family's error SD, and the intercept moved by the error's mean.
    The sums add over row blocks or data partitions, so every engine starts from the same point."""
    k = gram.shape[0]
    gamma = np.linalg.solve(gram + 1e-10 * np.eye(k), rhs)
    ss = max(sum_sq - float(gamma @ rhs), 0.0)
    df_resid = max(float(gram[0, 0]) - k, 1.0)
    mean_eps, sd_eps = _MOMENTS.get(family, (0.0, 1.0))
    sigma = float(np.clip(math.sqrt(ss / df_resid) / sd_eps, 0.05, 5.0))
    gamma[0] -= sigma * mean_eps
    return np.concatenate([gamma, [math.log(sigma)]])


def error_sd(family: str) -> float:
    """The standard deviation of the family's standardised error (1 for the log-normal)."""
    return _MOMENTS.get(family, (0.0, 1.0))[1]


GROUP_SHARE_START = 0.3
"""The share of the residual variance a random-intercept fit starts by giving the groups (the rest stays within
groups); a neutral start, not an estimate: the fit moves it."""


def grouped_start(theta: np.ndarray, family: str) -> np.ndarray:
    """Starting values of a random-intercept fit from the fixed-effect fit ``theta``: the residual variance split
    :data:`GROUP_SHARE_START` between groups and the rest within, as (log error scale, log group sd)."""
    total_sd = math.exp(theta[-1]) * error_sd(family)
    return np.append(
        theta[:-1],
        [theta[-1] + 0.5 * math.log(1.0 - GROUP_SHARE_START), math.log(math.sqrt(GROUP_SHARE_START) * total_sd)],
    )


class IntervalAFT:
    r"""Weibull, log-logistic or log-normal AFT model for interval-censored durations, with an optional random
    intercept.

    Parameters
    ----------
    family:
        ``"weibull"`` (default), ``"loglogistic"`` or ``"lognormal"``: the distribution of the error
        :math:`\varepsilon` in :math:`\log T = \beta_0 + x^\top\beta + b_g + \sigma\varepsilon`.
    alpha:
        1 - confidence level of the reported Wald intervals (0.05 gives 95 %).
    n_nodes:
        adaptive Gauss-Hermite nodes per group for the random intercept (1 = Laplace).
    tol:
        stop when the Newton decrement predicts at most ``tol`` (relative) further gain in the mean log-likelihood.
    max_iter:
        iteration limit of the trust-region Newton method.

    Fitted attributes
    -----------------
    ``params_``
        Series: ``intercept``, each covariate (log-time per unit: ``exp`` is the time ratio), ``log_scale``
        (:math:`\log\sigma`) and, with groups, ``log_sigma_re`` (:math:`\log\tau`).
    ``standard_errors_``, ``variance_matrix_``, ``confidence_intervals_``
        from the observed information (inverse Hessian of the negative log-likelihood) and Wald intervals.
    ``log_likelihood_``, ``AIC_``, ``BIC_``
        the maximised log-likelihood (days, as lifelines defines it; for grouped fits the AGHQ marginal one).
    ``scale_``
        :math:`\sigma`, the scale of the error distribution (Weibull shape :math:`\rho = 1/\sigma`).
    ``sigma_``
        :math:`\tau`, the SD of the random intercept (``None`` without groups).
    ``random_effects_``, ``random_effects_sd_``
        per group, posterior mean and SD of :math:`b_g` (empirical Bayes; ``None`` without groups).
    ``n_iter_``, ``n_evaluations_``, ``converged_``, ``convergence_message_``
        optimiser diagnostics (iterations of both stages for grouped fits).
    ``n_obs_``, ``n_groups_``, ``n_events_by_kind_``
        row counts, groups and rows by kind (exact, interval, left, right, uninformative).
    ``summary``
        a DataFrame of the above per parameter.

    Data conventions (days): ``lower < upper`` means the event fell in ``(lower, upper]``; ``upper = inf`` is
    right-censored at ``lower``; ``lower = 0`` is left-censored; ``lower == upper`` is an exactly observed event.
    """

    def __init__(
        self,
        family: str | Family = "weibull",
        alpha: float = 0.05,
        n_nodes: int = DEFAULT_NODES,
        tol: float = 1e-12,
        max_iter: int = 200,
    ) -> None:
        self.family = get_family(family)
        if not 0.0 < alpha < 1.0:
            raise ValueError("alpha must be between 0 and 1")
        if int(n_nodes) < 1:
            raise ValueError("n_nodes must be at least 1")
        self.alpha = alpha
        self.n_nodes = int(n_nodes)
        self.tol = tol
        self.max_iter = max_iter

    def __repr__(self) -> str:
        state = f", log_likelihood_={self.log_likelihood_:.4f}" if hasattr(self, "log_likelihood_") else ""
        return f"IntervalAFT(family={self.family.name!r}{state})"

    # ------------------------------------------------------------------ fit

    def fit(
        self,
        df: pd.DataFrame,
        lower_col: str,
        upper_col: str,
        covariates: Sequence[str] = (),
        group_col: str | None = None,
    ) -> IntervalAFT:
        """Fit by maximum likelihood; returns ``self``.

        ``covariates`` are numeric columns (0/1 indicators for categories); ``group_col`` (any hashable values)
        adds a normal random intercept per group, integrated out by adaptive Gauss-Hermite quadrature.
        """
        covariates = list(covariates)
        self._check_fit_args(df, lower_col, upper_col, covariates, group_col)
        lower, upper = as_bounds(
            df[lower_col].to_numpy(dtype=float, na_value=np.nan),
            df[upper_col].to_numpy(dtype=float, na_value=np.nan),
            index=df.index,
            names=(lower_col, upper_col),
        )
        kinds = row_kinds(lower, upper)
        if np.all(kinds == KIND_NONE):
            raise ValueError("every row is (0, inf): the data say nothing about durations")
        n, q = len(df), len(covariates)
        if n <= q + 1:
            raise ValueError(f"{n} rows cannot identify {q + 2} parameters")
        if group_col is not None:
            codes, labels = pd.factorize(df[group_col], sort=True)
            if (codes < 0).any():
                raise ValueError(f"group column {group_col!r} has missing values in {int((codes < 0).sum())} row(s)")
        counts = np.bincount(kinds, minlength=KIND_NONE + 1)
        self.n_obs_ = n
        self.n_events_by_kind_ = {
            "exact": int(counts[KIND_EXACT]),
            "interval": int(counts[KIND_INTERVAL]),
            "left": int(counts[KIND_LEFT]),
            "right": int(counts[KIND_RIGHT]),
            "uninformative": int(counts[KIND_NONE]),
        }
        del kinds

        # standardised design Z = [1, (x - mean) / sd], rows in the data's order, served block by block
        columns = []
        means, sds = np.zeros(q), np.ones(q)
        for j, name in enumerate(covariates):
            x = numeric_column(df, name, "covariate")
            means[j], sds[j] = x.mean(), x.std()
            if not sds[j] > 1e-12 * max(1.0, abs(means[j])):
                raise ValueError(f"covariate {name!r} is constant; it cannot be estimated alongside the intercept")
            columns.append(x)
        Z = _Design(columns, means, sds, n)
        self._covariates, self._means, self._sds = covariates, means, sds
        self.lower_col, self.upper_col, self.group_col = lower_col, upper_col, group_col

        chunks = prepare_chunks(lower, upper)
        theta0 = self._start(Z, chunks)
        res, objective, converged = self._minimize(
            lambda th: nll_prepared(th, Z, chunks, self.family, order=2), theta0, n
        )
        theta, sums = res.x, objective.at(res.x)
        n_iter, n_eval, message = res.nit, objective.n_evaluations, res.message

        self.sigma_ = None
        self.random_effects_ = None
        self.random_effects_sd_ = None
        self.n_groups_ = None
        if group_col is not None:
            groups = codes.astype(np.intp)
            n_groups = len(labels)
            del chunks
            times = prepare_times(lower, upper)
            evaluator = _GroupedEvaluator(Z.full(), times, groups, n_groups, self.family, self.n_nodes)
            res, objective, converged = self._minimize(evaluator, grouped_start(theta, self.family.name), n)
            theta = res.x
            sums = objective.at(theta)
            n_iter += res.nit
            n_eval += objective.n_evaluations
            message = res.message
            self.n_groups_ = n_groups
            self.sigma_ = float(math.exp(theta[-1]))
            index = pd.Index(labels, name=group_col)
            self.random_effects_ = pd.Series(sums.posterior_mean, index=index, name="random_effect")
            self.random_effects_sd_ = pd.Series(sums.posterior_sd, index=index, name="random_effect_sd")

        self._set_results(theta, sums, q)
        self.n_iter_ = int(n_iter)
        self.n_evaluations_ = int(n_eval)
        self.converged_ = bool(converged)
        self.convergence_message_ = str(message)
        if not self.converged_:
            warnings.warn(f"IntervalAFT did not converge: {message}", RuntimeWarning, stacklevel=2)
        return self

    def _check_fit_args(
        self, df: pd.DataFrame, lower_col: str, upper_col: str, covariates: list[str], group_col: str | None
    ) -> None:
        needed = [lower_col, upper_col, *covariates] + ([group_col] if group_col is not None else [])
        check_columns(df, needed)
        if len(set(covariates)) != len(covariates):
            raise ValueError(f"covariates are listed more than once: {covariates}")
        clash = [c for c in covariates if c in (lower_col, upper_col, group_col)]
        if clash:
            raise ValueError(f"covariates {clash} are also used as the interval bounds or the group column")
        reserved = [c for c in covariates if c in _RESERVED]
        if reserved:
            raise ValueError(f"covariate names {reserved} are reserved for model parameters; rename the column(s)")
        for name in (lower_col, upper_col):
            numeric_ok = pd.api.types.is_numeric_dtype(df[name]) and not pd.api.types.is_bool_dtype(df[name])
            if not numeric_ok:
                raise ValueError(f"interval bound {name!r} must be numeric days (dtype is {df[name].dtype})")

    def _start(self, Z: _Design, chunks: list[tuple[slice, PreparedTimes]]) -> np.ndarray:
        """Least squares on a representative log-time per row (midpoint, bound +- log 2), moments of the family."""
        log2 = math.log(2.0)
        k = Z.shape[1]
        gram, rhs = np.zeros((k, k)), np.zeros(k)
        sum_sq = 0.0
        for sl, times in chunks:
            r = np.zeros(times.n)
            w = np.ones(times.n)
            rows = times.rows
            r[rows[KIND_EXACT]] = times.log_hi[KIND_EXACT]
            r[rows[KIND_INTERVAL]] = 0.5 * (times.log_lo[KIND_INTERVAL] + times.log_hi[KIND_INTERVAL])
            r[rows[KIND_RIGHT]] = times.log_lo[KIND_RIGHT] + log2
            r[rows[KIND_LEFT]] = times.log_hi[KIND_LEFT] - log2
            if times.has_uninformative:
                w[times.kind == KIND_NONE] = 0.0
            zb = Z.block(sl)
            gram += zb.T @ (zb * w[:, None])
            rhs += zb.T @ (w * r)
            sum_sq += float(w @ (r * r))
        return start_from_sums(gram, rhs, sum_sq, self.family.name)

    def _minimize(self, evaluate: Any, theta0: np.ndarray, n: int) -> tuple[optimize.OptimizeResult, _Objective, bool]:
        """Trust-region Newton (``trust-exact``) on the mean negative log-likelihood.

        Stops when the Newton decrement predicts a remaining gain :math:`\\tfrac12 g^\\top H^{-1} g` of at most
        ``tol`` times :math:`\\max(1, |f|)`: beyond that a trust-region method cannot verify progress in floating
        point and would only shrink its radius.
        """
        objective = _Objective(evaluate, 1.0 / n)
        state = {"converged": False}

        def callback(intermediate_result: optimize.OptimizeResult) -> None:
            x = intermediate_result.x
            f, g, H = objective.fun(x), objective.jac(x), objective.hess(x)
            try:
                gain = 0.5 * float(g @ np.linalg.solve(H, g))
            except np.linalg.LinAlgError:
                return
            if np.isfinite(gain) and 0.0 <= gain <= self.tol * max(1.0, abs(f)):
                state["converged"] = True
                raise StopIteration

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = optimize.minimize(
                objective.fun,
                theta0,
                jac=objective.jac,
                hess=objective.hess,
                method="trust-exact",
                callback=callback,
                options={"gtol": 1e-12, "maxiter": self.max_iter},
            )
        if state["converged"]:
            res.message = "converged: the Newton decrement predicts a relative gain below tol"
        return res, objective, bool(state["converged"] or res.success)

    def _set_results(self, theta: np.ndarray, sums: Any, q: int) -> None:
        k = theta.size
        # map from the standardised parametrisation: beta_j = g_j / sd_j, beta_0 = g_0 - sum g_j mean_j / sd_j
        A = np.eye(k)
        A[0, 1 : q + 1] = -self._means / self._sds
        A[np.arange(1, q + 1), np.arange(1, q + 1)] = 1.0 / self._sds
        names = [INTERCEPT, *self._covariates, LOG_SCALE] + ([LOG_SIGMA_RE] if k == q + 3 else [])
        index = pd.Index(names, name="parameter")
        self.params_ = pd.Series(A @ theta, index=index, name="coef")
        hessian = sums.hessian
        try:
            cov_std = np.linalg.inv(hessian)
            if not np.all(np.isfinite(cov_std)) or np.any(np.diag(cov_std) <= 0):
                raise np.linalg.LinAlgError("observed information is not positive definite")
        except np.linalg.LinAlgError:
            warnings.warn(
                "observed information is singular or not positive definite; standard errors are NaN",
                RuntimeWarning,
                stacklevel=3,
            )
            cov_std = np.full((k, k), np.nan)
        cov = A @ cov_std @ A.T
        self.variance_matrix_ = pd.DataFrame(cov, index=index, columns=index)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=index, name="se(coef)")
        zcrit = float(ndtri(1.0 - self.alpha / 2.0))
        level = f"{100 * (1 - self.alpha):g}%"
        self.confidence_intervals_ = pd.DataFrame(
            {
                f"{level} lower-bound": self.params_ - zcrit * self.standard_errors_,
                f"{level} upper-bound": self.params_ + zcrit * self.standard_errors_,
            }
        )
        self.log_likelihood_ = -float(sums.value)
        self.AIC_ = -2.0 * self.log_likelihood_ + 2.0 * k
        self.BIC_ = -2.0 * self.log_likelihood_ + k * math.log(self.n_obs_)
        self.scale_ = float(math.exp(self.params_[LOG_SCALE]))

    @property
    def summary(self) -> pd.DataFrame:
        """Coefficients with ``exp(coef)`` (time ratios for covariates), SEs, Wald z, p-values and intervals."""
        self._check_fitted()
        se = self.standard_errors_
        z = self.params_ / se
        level = f"{100 * (1 - self.alpha):g}%"
        ci = self.confidence_intervals_
        return pd.DataFrame(
            {
                "coef": self.params_,
                "exp(coef)": np.exp(self.params_),
                "se(coef)": se,
                f"coef lower {level}": ci.iloc[:, 0],
                f"coef upper {level}": ci.iloc[:, 1],
                "z": z,
                "p": 2.0 * ndtr(-np.abs(z)),
            }
        )

    # ------------------------------------------------------------------ prediction

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise RuntimeError("this IntervalAFT is not fitted yet; call fit() first")

    def _locations(self, df: pd.DataFrame, conditional: bool) -> tuple[np.ndarray, np.ndarray]:
        """Linear predictor per row and a mask of rows that use the marginal (rather than a group's) effect."""
        self._check_fitted()
        if isinstance(df, pd.Series):
            df = df.to_frame().T
        check_columns(df, self._covariates)
        mu = np.full(len(df), float(self.params_[INTERCEPT]))
        for name in self._covariates:
            mu += float(self.params_[name]) * numeric_column(df, name, "covariate")
        marginal = np.full(len(df), self.sigma_ is not None)
        if conditional:
            if self.sigma_ is None:
                raise ValueError("conditional predictions need a model fitted with group_col")
            check_columns(df, [self.group_col])
            effect = df[self.group_col].map(self.random_effects_)
            seen = effect.notna().to_numpy()
            mu[seen] += effect.to_numpy(dtype=float)[seen]
            marginal &= ~seen
        return mu, marginal

    def _survival_from_shift(self, shift: np.ndarray, marginal: np.ndarray) -> np.ndarray:
        """Survival given y - mu, marginal over the random intercept where ``marginal``."""
        out = np.exp(self.family.log_sf(shift / self.scale_))
        if marginal.any():
            m = np.broadcast_to(marginal, shift.shape)
            out[m] = marginal_survival(self.family, shift[m], self.scale_, self.sigma_)
        return out

    def predict_survival(
        self, df: pd.DataFrame, times: Sequence[float] | np.ndarray, conditional: bool = False
    ) -> pd.DataFrame:
        """Survival probabilities ``S(t | x)``: a DataFrame indexed by ``times`` with one column per row of ``df``.

        For a grouped fit the curve is marginal over the random intercept,
        :math:`\\int S(t \\mid x, b)\\varphi(b; \\tau)db`; with ``conditional=True`` rows whose group was seen in
        the fit use that group's posterior-mean effect instead (unseen groups stay marginal).
        """
        mu, marginal = self._locations(df, conditional)
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if np.any(np.isnan(t)) or np.any(t < 0):
            raise ValueError("times must be non-negative numbers")
        with np.errstate(divide="ignore"):
            shift = np.log(t)[:, None] - mu[None, :]
        surv = self._survival_from_shift(shift, np.broadcast_to(marginal[None, :], shift.shape))
        return pd.DataFrame(surv, index=pd.Index(t, name="time"), columns=_index_of(df))

    def predict_percentile(self, df: pd.DataFrame, p: float = 0.5, conditional: bool = False) -> pd.Series:
        """The time ``t`` with ``S(t | x) = p`` (``p`` is a *survival* probability, as in lifelines).

        Closed form :math:`\\exp(\\mu + \\sigma z_p)` without random effects; for a marginal prediction the
        equation :math:`\\int S(t\\mid x,b)\\varphi(b)db = p` is solved by bisection in :math:`\\log t` (closed form
        :math:`\\exp(\\mu + \\sqrt{\\sigma^2+\\tau^2}\\,z_p)` for log-normal).
        """
        if not 0.0 < p < 1.0:
            raise ValueError("p must be a survival probability strictly between 0 and 1")
        mu, marginal = self._locations(df, conditional)
        zp = float(self.family.quantile(p))
        shift = np.full(mu.shape, self.scale_ * zp)
        if marginal.any():
            if self.family.name == "lognormal":
                shift[marginal] = math.sqrt(self.scale_**2 + self.sigma_**2) * zp
            else:
                shift[marginal] = self._solve_marginal(p, int(marginal.sum()))
        return pd.Series(np.exp(mu + shift), index=_index_of(df), name=f"percentile_{p:g}")

    def _solve_marginal(self, p: float, size: int) -> np.ndarray:
        """Bisection for the shift y - mu at which the marginal survival equals p (the same for every row)."""
        zp = float(self.family.quantile(p))
        lo = self.scale_ * zp - 20.0 * self.sigma_
        hi = self.scale_ * zp + 20.0 * self.sigma_
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            s = float(marginal_survival(self.family, np.array([mid]), self.scale_, self.sigma_)[0])
            if s > p:
                lo = mid
            else:
                hi = mid
            if hi - lo < 1e-13:
                break
        return np.full(size, 0.5 * (lo + hi))

    def predict_median(self, df: pd.DataFrame, conditional: bool = False) -> pd.Series:
        """Median duration, ``predict_percentile(df, 0.5)``."""
        return self.predict_percentile(df, 0.5, conditional=conditional).rename("median")


def _index_of(df: pd.DataFrame | pd.Series) -> pd.Index:
    return df.index if isinstance(df, pd.DataFrame) else pd.RangeIndex(1)
