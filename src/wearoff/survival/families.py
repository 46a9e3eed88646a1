r"""Error distributions of the accelerated-failure-time (AFT) model, written in the standardised residual.

The AFT model is :math:`\log T = \mu + \sigma\,\varepsilon` with :math:`\mu = x^\top\beta` and a standard error
distribution for :math:`\varepsilon`. Every quantity the likelihood needs is a function of the standardised residual
:math:`z = (\log t - \mu)/\sigma`:

* :math:`\log S(z) = \log P(\varepsilon > z)` and :math:`\log F(z) = \log P(\varepsilon \le z)`,
* :math:`g(z) = \log f(z)`, the log-density of :math:`\varepsilon`, and its derivatives :math:`g'(z)`, :math:`g''(z)`,
* the quantile :math:`z_p` at which :math:`S(z_p) = p` (a survival probability, as in lifelines).

Families (each density is log-concave, so interval probabilities are log-concave in :math:`\mu`):

* ``weibull``: :math:`\varepsilon` standard Gumbel of the minimum, :math:`S(z) = e^{-e^z}`; then
  :math:`S_T(t) = \exp(-(t/\lambda)^\rho)` with :math:`\lambda = e^\mu`, :math:`\rho = 1/\sigma`.
* ``loglogistic``: :math:`\varepsilon` standard logistic, :math:`S(z) = 1/(1 + e^z)`; then
  :math:`S_T(t) = 1/(1 + (t/\alpha)^\beta)` with :math:`\alpha = e^\mu`, :math:`\beta = 1/\sigma`.
* ``lognormal``: :math:`\varepsilon` standard normal, :math:`S(z) = \Phi(-z)`; then
  :math:`S_T(t) = 1 - \Phi((\log t - \mu)/\sigma)`.

All functions are vectorised over numpy arrays and accept :math:`\pm\infty` where the limit is finite.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit, log_ndtr, ndtri

__all__ = ["FAMILIES", "Family", "LogLogistic", "LogNormal", "Weibull", "get_family", "log1mexp"]

_LOG_HALF = math.log(0.5)


def log1mexp(x: np.ndarray) -> np.ndarray:
    r"""Return :math:`\log(1 - e^{x})` for :math:`x \le 0`, accurately for all :math:`x`.

    Uses :math:`\log(-\mathrm{expm1}(x))` for :math:`x > -\log 2` and :math:`\mathrm{log1p}(-e^{x})` otherwise
    (Mächler, 2012, "Accurately computing log(1 - exp(-|a|))").
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(x > -math.log(2.0), np.log(-np.expm1(np.minimum(x, 0.0))), np.log1p(-np.exp(x)))


def _softplus(z: np.ndarray) -> np.ndarray:
    """:math:`\\log(1 + e^{z})` without overflow."""
    z = np.asarray(z, dtype=float)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


class Family:
    """An AFT error distribution: log-survival, log-CDF, log-density and its derivatives in ``z``.

    Subclasses implement the static methods; instances carry no state.
    """

    name: str = ""
    #: the lifelines fitter that fits the same model, for the documentation and the benchmarks
    lifelines_fitter: str = ""

    @staticmethod
    def log_sf(z: np.ndarray) -> np.ndarray:
        r""":math:`\log S(z)`."""
        raise NotImplementedError

    @staticmethod
    def log_cdf(z: np.ndarray) -> np.ndarray:
        r""":math:`\log F(z) = \log(1 - S(z))`."""
        raise NotImplementedError

    @staticmethod
    def log_pdf(z: np.ndarray) -> np.ndarray:
        r""":math:`g(z) = \log f(z)`."""
        raise NotImplementedError

    @staticmethod
    def dlog_pdf(z: np.ndarray) -> np.ndarray:
        r""":math:`g'(z)`."""
        raise NotImplementedError

    @staticmethod
    def d2log_pdf(z: np.ndarray) -> np.ndarray:
        r""":math:`g''(z)`."""
        raise NotImplementedError

    @staticmethod
    def quantile(p: np.ndarray) -> np.ndarray:
        r"""The residual :math:`z_p` with :math:`S(z_p) = p` (``p`` a survival probability in (0, 1))."""
        raise NotImplementedError

    # Row primitives used by the likelihood. Each returns the log-likelihood of the row in z and the weights
    # w = f(z_k) / P(row) of its endpoints (and g'(z_k) when ``order >= 2``); subclasses may fuse them.

    @classmethod
    def exact(cls, z: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``(g(z), g'(z), g''(z))`` for exactly observed rows (derivatives ``None`` when not requested)."""
        return (
            cls.log_pdf(z),
            cls.dlog_pdf(z) if order >= 1 else None,
            cls.d2log_pdf(z) if order >= 2 else None,
        )

    @classmethod
    def right(cls, z: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``(log S(z), f(z)/S(z), g'(z))`` for right-censored rows."""
        ll = cls.log_sf(z)
        if order < 1:
            return ll, None, None
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            w = np.exp(cls.log_pdf(z) - ll)
        return ll, w, cls.dlog_pdf(z) if order >= 2 else None

    @classmethod
    def left(cls, z: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``(log F(z), f(z)/F(z), g'(z))`` for left-censored rows."""
        ll = cls.log_cdf(z)
        if order < 1:
            return ll, None, None
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            w = np.exp(cls.log_pdf(z) - ll)
        return ll, w, cls.dlog_pdf(z) if order >= 2 else None

    @classmethod
    def interval(cls, z_lo: np.ndarray, z_hi: np.ndarray, order: int) -> tuple[np.ndarray | None, ...]:
        """``(log D, f(z_lo)/D, f(z_hi)/D, g'(z_lo), g'(z_hi))`` with :math:`D = S(z_{lo}) - S(z_{hi})`."""
        ll = cls.log_interval(z_lo, z_hi)
        if order < 1:
            return ll, None, None, None, None
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            w_lo = np.exp(cls.log_pdf(z_lo) - ll)
            w_hi = np.exp(cls.log_pdf(z_hi) - ll)
        if order < 2:
            return ll, w_lo, w_hi, None, None
        return ll, w_lo, w_hi, cls.dlog_pdf(z_lo), cls.dlog_pdf(z_hi)

    @classmethod
    def log_interval(cls, z_lo: np.ndarray, z_hi: np.ndarray) -> np.ndarray:
        r"""Return :math:`\log(S(z_{lo}) - S(z_{hi}))` for :math:`z_{lo} < z_{hi}`, stable for any width.

        Both forms are exact identities; the one whose subtraction does not cancel is used:

        .. math::

            \log(S_{lo} - S_{hi}) =
            \begin{cases}
              \log S_{lo} + \mathrm{log1mexp}(\log S_{hi} - \log S_{lo}) & S_{lo} < 1/2 \text{ (upper tail)}\\
              \log F_{hi} + \mathrm{log1mexp}(\log F_{lo} - \log F_{hi}) & \text{otherwise (lower tail)}
            \end{cases}

        In the upper tail both survivals are below one half and are known to full relative precision from their logs;
        otherwise :math:`F_{lo} \le 1/2`, and either :math:`F_{hi}` is also small (narrow interval in the lower
        tail, again exact in logs) or the difference is at least :math:`F_{hi} - 1/2`, far from cancellation.
        """
        ls_lo = cls.log_sf(z_lo)
        ls_hi = cls.log_sf(z_hi)
        lf_lo = cls.log_cdf(z_lo)
        lf_hi = cls.log_cdf(z_hi)
        with np.errstate(invalid="ignore"):
            upper = ls_lo + log1mexp(np.minimum(ls_hi - ls_lo, 0.0))
            lower = lf_hi + log1mexp(np.minimum(lf_lo - lf_hi, 0.0))
        return np.where(ls_lo < _LOG_HALF, upper, lower)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Weibull(Family):
    r"""Weibull durations: :math:`\varepsilon` is the standard Gumbel distribution of the minimum.

    .. math::

        \log S(z) = -e^{z},\quad \log F(z) = \log(1 - e^{-e^{z}}),\quad g(z) = z - e^{z},\quad
        g'(z) = 1 - e^{z},\quad g''(z) = -e^{z},\quad z_p = \log(-\log p).
    """

    name = "weibull"
    lifelines_fitter = "WeibullAFTFitter"

    @staticmethod
    def log_sf(z: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return -np.exp(z)

    @staticmethod
    def log_cdf(z: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", divide="ignore"):
            return np.log(-np.expm1(-np.exp(z)))

    @staticmethod
    def log_pdf(z: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return z - np.exp(z)

    @staticmethod
    def dlog_pdf(z: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return 1.0 - np.exp(z)

    @staticmethod
    def d2log_pdf(z: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return -np.exp(z)

    @staticmethod
    def quantile(p: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(-np.log(p))

    # Fused forms in A = e^{z}. An interval has D = e^{-A_lo} - e^{-A_hi} = e^{-A_lo} E with
    # E = -expm1(A_lo - A_hi), exact for narrow and wide intervals alike, so
    # log D = -A_lo + log E, f_lo/D = A_lo / E and f_hi/D = A_hi e^{A_lo - A_hi} / E.

    @classmethod
    def exact(cls, z: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        with np.errstate(over="ignore", invalid="ignore"):
            a = np.exp(z)
            return z - a, (1.0 - a) if order >= 1 else None, -a if order >= 2 else None

    @classmethod
    def right(cls, z: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        with np.errstate(over="ignore"):
            a = np.exp(z)
        return -a, a if order >= 1 else None, (1.0 - a) if order >= 2 else None

    @classmethod
    def left(cls, z: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            b = np.exp(z)
            ll = np.log(-np.expm1(-b))
            if order < 1:
                return ll, None, None
            w = b / np.expm1(b)
        return ll, w, (1.0 - b) if order >= 2 else None

    @classmethod
    def interval(cls, z_lo: np.ndarray, z_hi: np.ndarray, order: int) -> tuple[np.ndarray | None, ...]:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            a = np.exp(z_lo)
            b = np.exp(z_hi)
            em = np.expm1(a - b)  # in (-1, 0]
            ll = np.log(-em) - a
            if order < 1:
                return ll, None, None, None, None
            r = -1.0 / em
            w_lo = a * r
            w_hi = b * (1.0 + em) * r
        if order < 2:
            return ll, w_lo, w_hi, None, None
        return ll, w_lo, w_hi, 1.0 - a, 1.0 - b

    @classmethod
    def log_interval(cls, z_lo: np.ndarray, z_hi: np.ndarray) -> np.ndarray:
        return cls.interval(z_lo, z_hi, 0)[0]


class LogLogistic(Family):
    r"""Log-logistic durations: :math:`\varepsilon` is the standard logistic distribution.

    .. math::

        \log S(z) = -\log(1 + e^{z}),\quad \log F(z) = -\log(1 + e^{-z}),\quad g(z) = \log S(z) + \log F(z),

        g'(z) = 1 - 2F(z) = -\tanh(z/2),\quad g''(z) = -2F(z)S(z),\quad z_p = \log((1-p)/p).
    """

    name = "loglogistic"
    lifelines_fitter = "LogLogisticAFTFitter"

    @staticmethod
    def log_sf(z: np.ndarray) -> np.ndarray:
        return -_softplus(z)

    @staticmethod
    def log_cdf(z: np.ndarray) -> np.ndarray:
        return -_softplus(-np.asarray(z, dtype=float))

    @staticmethod
    def log_pdf(z: np.ndarray) -> np.ndarray:
        a = np.abs(z)
        return -a - 2.0 * np.log1p(np.exp(-a))

    @staticmethod
    def dlog_pdf(z: np.ndarray) -> np.ndarray:
        return -np.tanh(0.5 * np.asarray(z, dtype=float))

    @staticmethod
    def d2log_pdf(z: np.ndarray) -> np.ndarray:
        return -2.0 * expit(z) * expit(-np.asarray(z, dtype=float))

    @staticmethod
    def quantile(p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        with np.errstate(divide="ignore"):
            return np.log1p(-p) - np.log(p)

    # Fused forms: with E = -expm1(z_lo - z_hi), D = S_lo - S_hi = S_lo F_hi E exactly, so
    # log D = log S_lo + log F_hi + log E, f_lo/D = (F_lo/F_hi)/E and f_hi/D = (S_hi/S_lo)/E (f = S F).

    @classmethod
    def exact(cls, z: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        g = cls.log_pdf(z)
        if order < 1:
            return g, None, None
        f_cdf = expit(z)
        return g, 1.0 - 2.0 * f_cdf, (-2.0 * f_cdf * (1.0 - f_cdf)) if order >= 2 else None

    @classmethod
    def right(cls, z: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        ll = -_softplus(z)
        if order < 1:
            return ll, None, None
        f_cdf = expit(z)
        return ll, f_cdf, (1.0 - 2.0 * f_cdf) if order >= 2 else None

    @classmethod
    def left(cls, z: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        ll = -_softplus(-z)
        if order < 1:
            return ll, None, None
        surv = expit(-z)
        return ll, surv, (2.0 * surv - 1.0) if order >= 2 else None

    @classmethod
    def interval(cls, z_lo: np.ndarray, z_hi: np.ndarray, order: int) -> tuple[np.ndarray | None, ...]:
        ls_lo = -_softplus(z_lo)
        lf_hi = -_softplus(-z_hi)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            e = -np.expm1(z_lo - z_hi)
            ll = ls_lo + lf_hi + np.log(e)
            if order < 1:
                return ll, None, None, None, None
            lf_lo = ls_lo + z_lo  # log F = log S + z
            ls_hi = lf_hi - z_hi
            w_lo = np.exp(lf_lo - lf_hi) / e
            w_hi = np.exp(ls_hi - ls_lo) / e
        if order < 2:
            return ll, w_lo, w_hi, None, None
        return ll, w_lo, w_hi, -np.tanh(0.5 * z_lo), -np.tanh(0.5 * z_hi)

    @classmethod
    def log_interval(cls, z_lo: np.ndarray, z_hi: np.ndarray) -> np.ndarray:
        return cls.interval(z_lo, z_hi, 0)[0]


class LogNormal(Family):
    r"""Log-normal durations: :math:`\varepsilon` is standard normal.

    .. math::

        \log S(z) = \log\Phi(-z),\quad \log F(z) = \log\Phi(z),\quad g(z) = -z^2/2 - \log\sqrt{2\pi},\quad
        g'(z) = -z,\quad g''(z) = -1,\quad z_p = \Phi^{-1}(1 - p).
    """

    name = "lognormal"
    lifelines_fitter = "LogNormalAFTFitter"
    _LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

    @staticmethod
    def log_sf(z: np.ndarray) -> np.ndarray:
        return log_ndtr(-np.asarray(z, dtype=float))

    @staticmethod
    def log_cdf(z: np.ndarray) -> np.ndarray:
        return log_ndtr(z)

    @staticmethod
    def log_pdf(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return -0.5 * z * z - LogNormal._LOG_SQRT_2PI

    @staticmethod
    def dlog_pdf(z: np.ndarray) -> np.ndarray:
        return -np.asarray(z, dtype=float)

    @staticmethod
    def d2log_pdf(z: np.ndarray) -> np.ndarray:
        return np.full_like(np.asarray(z, dtype=float), -1.0)

    @staticmethod
    def quantile(p: np.ndarray) -> np.ndarray:
        return -ndtri(np.asarray(p, dtype=float))


FAMILIES: dict[str, type[Family]] = {cls.name: cls for cls in (Weibull, LogLogistic, LogNormal)}


def get_family(family: str | Family | type[Family]) -> Family:
    """Return the family instance for a name (``"weibull"``, ``"loglogistic"``, ``"lognormal"``) or pass one through."""
    if isinstance(family, Family):
        return family
    if isinstance(family, type) and issubclass(family, Family):
        return family()
    key = str(family).lower().replace("-", "").replace("_", "")
    if key not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; choose one of {sorted(FAMILIES)}")
    return FAMILIES[key]()
