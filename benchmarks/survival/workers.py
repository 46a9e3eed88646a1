"""One benchmark measurement per fresh process: ``python workers.py TASK DATA_DIR`` prints one JSON line.

Every task loads its data from ``DATA_DIR`` the same way (``.npy`` files into a pandas DataFrame), records the
resident set size once the data are loaded, times the fit alone with ``time.perf_counter`` and reports its own peak
RSS; the driver also reads the peak RSS of the finished process from ``os.wait4``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024.0
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _frame(data_dir: Path, name: str) -> pd.DataFrame:
    values = np.load(data_dir / f"{name}.npy")
    columns = json.loads((data_dir / f"{name}.json").read_text())
    return pd.DataFrame(values, columns=columns, copy=False)


def aft_wearoff(data_dir: Path) -> dict:
    from wearoff.survival import IntervalAFT

    df = _frame(data_dir, "aft")
    covariates = [c for c in df.columns if c not in ("lower", "upper")]
    rss_loaded = _rss_mb()
    start = time.perf_counter()
    model = IntervalAFT("weibull").fit(df, "lower", "upper", covariates)
    seconds = time.perf_counter() - start
    params = {k: float(v) for k, v in model.params_.items()}
    return {
        "fit_seconds": seconds,
        "log_likelihood": model.log_likelihood_,
        "params": params,
        "standard_errors": {k: float(v) for k, v in model.standard_errors_.items()},
        "n_iter": model.n_iter_,
        "rss_loaded_mb": rss_loaded,
        "peak_mb": _peak_mb(),
    }


def aft_lifelines(data_dir: Path) -> dict:
    from lifelines import WeibullAFTFitter

    df = _frame(data_dir, "aft")
    rss_loaded = _rss_mb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = WeibullAFTFitter().fit_interval_censoring(df, "lower", "upper")
    seconds = time.perf_counter() - start
    params = {("intercept" if k == "Intercept" else k): v for k, v in model.params_.loc["lambda_"].items()}
    params["log_scale"] = -float(model.params_.loc[("rho_", "Intercept")])
    ses = {("intercept" if k == "Intercept" else k): float(v) for k, v in model.standard_errors_.loc["lambda_"].items()}
    ses["log_scale"] = float(model.standard_errors_.loc[("rho_", "Intercept")])
    return {
        "fit_seconds": seconds,
        "log_likelihood": float(model.log_likelihood_),
        "params": {k: float(v) for k, v in params.items()},
        "standard_errors": ses,
        "rss_loaded_mb": rss_loaded,
        "peak_mb": _peak_mb(),
    }


def _bounds(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    both = np.load(data_dir / "turnbull.npy")
    return both[:, 0].copy(), both[:, 1].copy()


def turnbull_wearoff(data_dir: Path) -> dict:
    from wearoff.survival import TurnbullNPMLE

    lower, upper = _bounds(data_dir)
    start = time.perf_counter()
    fitter = TurnbullNPMLE(closed="both").fit(lower, upper)
    seconds = time.perf_counter() - start
    sf = fitter.survival_function_
    return {
        "fit_seconds": seconds,
        "log_likelihood": fitter.log_likelihood_,
        "gap": fitter.result_.gap,
        "n_iter": fitter.n_iter_,
        "times": sf.index.tolist(),
        "upper": sf.iloc[:, 0].tolist(),
        "lower": sf.iloc[:, 1].tolist(),
        "median": fitter.median_survival_time_,
        "peak_mb": _peak_mb(),
    }


def turnbull_lifelines(data_dir: Path, tol: float | None = None) -> dict:
    from lifelines import KaplanMeierFitter

    from wearoff.survival.turnbull import _innermost, _loglik, _unique_pairs

    lower, upper = _bounds(data_dir)
    kwargs = {} if tol is None else {"tol": tol}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = KaplanMeierFitter().fit_interval_censoring(lower, upper, **kwargs)
    seconds = time.perf_counter() - start
    sf = km.survival_function_
    # lifelines does not report the NPMLE log-likelihood. Its upper curve at the left end of Turnbull interval j is
    # the mass of intervals j, j+1, ...; differences give the masses, evaluated on the same intervals as ours.
    ulo, uhi, uw = _unique_pairs(lower, upper, np.ones(lower.size))
    left, _, _, a, b = _innermost(ulo, uhi, "both")
    tail = np.append(sf.iloc[:, 0].reindex(left).to_numpy(), 0.0)
    ll, _ = _loglik(np.clip(tail[:-1] - tail[1:], 0.0, None), a, b + 1, uw)
    return {
        "fit_seconds": seconds,
        "log_likelihood": ll,
        "times": sf.index.tolist(),
        "upper": sf.iloc[:, 0].tolist(),
        "lower": sf.iloc[:, 1].tolist(),
        "median": float(np.asarray(km.median_survival_time_).ravel()[0]),
        "peak_mb": _peak_mb(),
    }


def turnbull_lifelines_tight(data_dir: Path) -> dict:
    return turnbull_lifelines(data_dir, tol=1e-11)


def re_wearoff(data_dir: Path) -> dict:
    from wearoff.survival import IntervalAFT

    df = _frame(data_dir, "re")
    start = time.perf_counter()
    model = IntervalAFT("weibull").fit(df, "lower", "upper", ["log_rel_dose", "male"], group_col="patient")
    seconds = time.perf_counter() - start
    ci = model.confidence_intervals_.loc["log_sigma_re"]
    return {
        "fit_seconds": seconds,
        "sigma_re": model.sigma_,
        "sigma_re_ci": [float(np.exp(ci.iloc[0])), float(np.exp(ci.iloc[1]))],
        "scale": model.scale_,
        "params": {k: float(v) for k, v in model.params_.items()},
        "log_likelihood": model.log_likelihood_,
        "n_iter": model.n_iter_,
        "peak_mb": _peak_mb(),
    }


def re_numpyro(data_dir: Path, warmup: int, samples: int) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.infer import MCMC, NUTS

    df = _frame(data_dir, "re")
    lower, upper = df["lower"].to_numpy(), df["upper"].to_numpy()
    interval = (lower > 0) & np.isfinite(upper)
    right = np.isinf(upper)
    left = lower == 0
    patient = df["patient"].to_numpy().astype(np.int64)
    n_patients = int(patient.max()) + 1
    X = jnp.asarray(df[["log_rel_dose", "male"]].to_numpy())
    idx = {k: jnp.asarray(np.flatnonzero(m)) for k, m in (("i", interval), ("r", right), ("l", left))}
    log_lo = {k: jnp.asarray(np.log(lower[np.asarray(v)])) for k, v in idx.items() if k != "l"}
    log_hi = {k: jnp.asarray(np.log(upper[np.asarray(v)])) for k, v in idx.items() if k != "r"}
    patient_j = jnp.asarray(patient)

    def model() -> None:
        intercept = numpyro.sample("intercept", dist.Normal(4.0, 5.0))
        beta = numpyro.sample("beta", dist.Normal(0.0, 5.0).expand([2]))
        log_scale = numpyro.sample("log_scale", dist.Normal(-1.0, 2.0))
        sigma_re = numpyro.sample("sigma_re", dist.HalfNormal(1.0))
        z = numpyro.sample("z", dist.Normal(0.0, 1.0).expand([n_patients]))  # non-centred random intercepts
        mu = intercept + X @ beta + sigma_re * z[patient_j]
        inv = jnp.exp(-log_scale)
        a_i = jnp.exp((log_lo["i"] - mu[idx["i"]]) * inv)
        b_i = jnp.exp((log_hi["i"] - mu[idx["i"]]) * inv)
        ll = jnp.sum(jnp.log(-jnp.expm1(a_i - b_i)) - a_i)  # Weibull interval, stable
        ll += -jnp.sum(jnp.exp((log_lo["r"] - mu[idx["r"]]) * inv))
        ll += jnp.sum(jnp.log(-jnp.expm1(-jnp.exp((log_hi["l"] - mu[idx["l"]]) * inv))))
        numpyro.factor("loglik", ll)

    mcmc = MCMC(NUTS(model), num_warmup=warmup, num_samples=samples, num_chains=1, progress_bar=False)
    start = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(0), extra_fields=("num_steps",))
    draws = mcmc.get_samples()
    sigma = np.asarray(draws["sigma_re"])
    seconds = time.perf_counter() - start
    extra = mcmc.get_extra_fields()
    steps = np.asarray(extra["num_steps"]) if "num_steps" in extra else np.array([np.nan])
    return {
        "fit_seconds": seconds,
        "sigma_re": float(sigma.mean()),
        "sigma_re_interval": [float(np.quantile(sigma, 0.025)), float(np.quantile(sigma, 0.975))],
        "scale": float(np.exp(np.asarray(draws["log_scale"])).mean()),
        "mean_leapfrog_steps": float(steps.mean()),
        "peak_mb": _peak_mb(),
    }


TASKS = {
    "aft-wearoff": aft_wearoff,
    "aft-lifelines": aft_lifelines,
    "turnbull-wearoff": turnbull_wearoff,
    "turnbull-lifelines": turnbull_lifelines,
    "turnbull-lifelines-tight": turnbull_lifelines_tight,
    "re-wearoff": re_wearoff,
}


def main(argv: list[str]) -> None:
    task, data_dir = argv[0], Path(argv[1])
    if task == "re-numpyro":
        result = re_numpyro(data_dir, warmup=int(argv[2]), samples=int(argv[3]))
    else:
        result = TASKS[task](data_dir)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
