r"""The interval-censored AFT fit over a partitioned data set on a Dask cluster, equal to the in-memory fit.

Algorithm
---------
The model, the parametrisation and the optimiser are those of :class:`wearoff.survival.IntervalAFT`; only the
evaluation of the objective is distributed:

1. every worker reads its Parquet files once and keeps the validated arrays in memory (Dask futures);
2. a first pass returns each partition's row count, kinds and covariate moments
   :math:`(n_k, \bar x_k, M_{2,k})`; the client merges them into the global mean and population SD, so the
   standardised design :math:`Z = [1, (x - \bar x)/s]` is exactly the in-memory one, and each worker builds its
   block of :math:`Z` once (the raw arrays are then released);
3. the starting point is the in-memory one: weighted least squares of a representative log-time per row from the
   partitions' :math:`Z^\top W Z` and :math:`Z^\top W r`, then the residual SD from merged residual moments;
4. at every parameter vector :math:`\theta` the trust-region Newton method (``scipy`` ``trust-exact``, run on the
   client with the in-memory fitter's tolerance, scaling by :math:`1/n` and convergence rule) asks for, each
   partition returns :math:`\big(-\sum\ell_i, -\sum\nabla\ell_i, -\sum\nabla^2\ell_i, n\big)` over its rows and
   the client adds them: :math:`-\ell(\theta) = \sum_k -\ell_k(\theta)`;
5. with a group column the random-intercept stage follows, starting from the fixed-effect estimate as in memory:
   each partition adapts the Gauss-Hermite nodes of its own groups (warm-started from its previous modes, kept on
   the worker) and returns sums over its groups, which add up as long as no group spans two partitions (checked).

The result equals the in-memory fit up to the order of floating-point additions (tested to 1e-6 relative; in
practice about 1e-10).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from wearoff.scale.dataset import ParquetDataset, numeric_columns, open_dataset
from wearoff.scale.partition import (
    LikelihoodSums,
    Moments,
    combine_moments,
    load_partition,
    partition_grouped_nll,
    partition_moments,
    partition_nll,
    partition_start_sums,
    posterior_of,
    prepare_partition,
    sum_all,
    sums_only,
)
from wearoff.survival import IntervalAFT
from wearoff.survival.aft import grouped_start, start_from_sums

__all__ = ["DaskIntervalAFT"]


def _grouped_summary(result: tuple[Any, np.ndarray]) -> tuple[LikelihoodSums, bool]:
    """What travels back from a grouped partition each iteration: its sums and whether its modes are finite."""
    return sums_only(result), bool(np.all(np.isfinite(result[1])))


def _grouped_step(part: Any, previous: Any, theta: np.ndarray, family: str, n_nodes: int) -> Any:
    start = None if previous is None else previous[1]
    return partition_grouped_nll(part, theta, family, n_nodes, start)


class _DaskEvaluator:
    """Evaluates the fixed-effect objective at ``theta``: map :func:`partition_nll` over partitions, add."""

    def __init__(self, client: Any, prepared: list[Any], family: str) -> None:
        self.client, self.prepared, self.family = client, prepared, family
        self.n_rounds = 0

    def __call__(self, theta: np.ndarray) -> LikelihoodSums:
        self.n_rounds += 1
        futures = self.client.map(partition_nll, self.prepared, theta=theta, family=self.family)
        return sum_all(self.client.gather(futures))


class _DaskGroupedEvaluator:
    """The random-intercept objective: each partition adapts its groups' quadrature, warm-started from its own
    previous modes (kept on the worker, updated only when the whole evaluation is finite, as in memory)."""

    def __init__(self, client: Any, prepared: list[Any], family: str, n_nodes: int) -> None:
        self.client, self.prepared, self.family, self.n_nodes = client, prepared, family, n_nodes
        self.warm: list[Any] = [None] * len(prepared)
        self.last: list[Any] = []
        self.n_rounds = 0

    def __call__(self, theta: np.ndarray) -> LikelihoodSums:
        self.n_rounds += 1
        results = self.client.map(
            _grouped_step, self.prepared, self.warm, theta=theta, family=self.family, n_nodes=self.n_nodes, pure=False
        )
        summaries = self.client.gather(self.client.map(_grouped_summary, results))
        total = sum_all([s for s, _ in summaries])
        if np.isfinite(total.value) and all(ok for _, ok in summaries):
            self.warm = results
        self.last = results
        return total


class DaskIntervalAFT(IntervalAFT):
    r""":class:`~wearoff.survival.IntervalAFT` fitted over a partitioned Parquet data set on a Dask cluster.

    Same parameters, fitted attributes and ``predict_*`` methods as the in-memory class (this is a subclass); only
    :meth:`fit` differs: it takes a data set location instead of a DataFrame, and a ``distributed.Client``. See the
    module docstring for the algorithm; the estimates equal ``IntervalAFT(...).fit(all rows)`` to round-off.

    Extra fitted attributes: ``n_partitions_``, ``n_rounds_`` (map-reduce rounds, one per evaluated point).
    """

    def __repr__(self) -> str:
        state = f", log_likelihood_={self.log_likelihood_:.4f}" if hasattr(self, "log_likelihood_") else ""
        return f"DaskIntervalAFT(family={self.family.name!r}{state})"

    def fit(  # type: ignore[override]
        self,
        dataset: ParquetDataset | str | os.PathLike[str],
        lower_col: str = "lower",
        upper_col: str = "upper",
        covariates: Sequence[str] | None = None,
        group_col: str | None = None,
        *,
        client: Any = None,
    ) -> DaskIntervalAFT:
        """Fit by maximum likelihood on the cluster of ``client`` (default: the current ``distributed`` client).

        ``covariates`` default to every numeric column other than the bounds and the group column.
        """
        from distributed import wait

        if client is None:
            from distributed import get_client

            client = get_client()
        ds = dataset if isinstance(dataset, ParquetDataset) else open_dataset(dataset)
        if covariates is None:
            covariates = [c for c in numeric_columns(ds) if c not in (lower_col, upper_col, group_col)]
        covariates = list(covariates)
        empty = pq.read_schema(ds.files[0], filesystem=ds.filesystem).empty_table().to_pandas()
        self._check_fit_args(empty, lower_col, upper_col, covariates, group_col)
        family = self.family.name
        prepared: list[Any] = []
        try:
            raw = client.map(
                load_partition, list(ds.files), filesystem=ds.filesystem, lower_col=lower_col, upper_col=upper_col,
                covariates=covariates, group_col=group_col, pure=False,  # the files may change between fits
            )  # fmt: skip
            total = reduce(combine_moments, client.gather(client.map(partition_moments, raw)))
            means, sds = self._check_moments(total, covariates, group_col)
            prepared = client.map(prepare_partition, raw, means=means, sds=sds)
            wait(prepared)
            del raw  # the raw arrays are released once every partition's design is built
            self._fit_on(client, prepared, total, covariates, means, sds, lower_col, upper_col, group_col, family)
        finally:
            for f in prepared:
                f.release()
        self.n_partitions_ = len(ds.files)
        return self

    # ------------------------------------------------------------------ steps

    def _check_moments(self, total: Moments, covariates: list[str], group_col: str | None
                       ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        if total.n == 0:
            raise ValueError("no rows to fit")
        if total.kinds["uninformative"] == total.n:
            raise ValueError("every row is (0, inf): the data say nothing about durations")
        means, sds = total.mean, total.sd
        for j, name in enumerate(covariates):
            if not sds[j] > 1e-12 * max(1.0, abs(means[j])):
                raise ValueError(f"covariate {name!r} is constant; it cannot be estimated alongside the intercept")
        if total.n <= len(covariates) + 1:
            raise ValueError(f"{total.n} rows cannot identify {len(covariates) + 2} parameters")
        if group_col is not None:
            labels = pd.Series(total.group_labels)
            split = labels[labels.duplicated()]
            if not split.empty:
                raise ValueError(
                    f"group {split.iloc[0]!r} (and {split.nunique() - 1} other(s)) spans several partitions; "
                    f"write the data set partitioned by {group_col!r} (wearoff.scale.write_partitions)"
                )
        return means, sds

    def _start_on(self, client: Any, prepared: list[Any]) -> np.ndarray:
        """The in-memory starting point from the partitions' sums (:func:`wearoff.survival.aft.start_from_sums`)."""
        parts = client.gather(client.map(partition_start_sums, prepared))
        gram, rhs, sum_sq = (sum(p[i] for p in parts) for i in range(3))
        return start_from_sums(gram, rhs, sum_sq, self.family.name)

    def _fit_on(
        self, client: Any, prepared: list[Any], total: Moments, covariates: list[str], means: np.ndarray,
        sds: np.ndarray, lower_col: str, upper_col: str, group_col: str | None, family: str,
    ) -> None:  # fmt: skip
        import warnings

        n, q = total.n, len(covariates)
        self._covariates, self._means, self._sds = covariates, means, sds
        self.lower_col, self.upper_col, self.group_col = lower_col, upper_col, group_col
        self.n_obs_ = n
        self.n_events_by_kind_ = dict(total.kinds)

        theta0 = self._start_on(client, prepared)
        evaluator = _DaskEvaluator(client, prepared, family)
        res, objective, converged = self._minimize(evaluator, theta0, n)
        theta, sums = res.x, objective.at(res.x)
        n_iter, n_eval, message = res.nit, objective.n_evaluations, res.message
        n_rounds = evaluator.n_rounds

        self.sigma_ = None
        self.random_effects_ = None
        self.random_effects_sd_ = None
        self.n_groups_ = None
        if group_col is not None:
            grouped = _DaskGroupedEvaluator(client, prepared, family, self.n_nodes)
            res, objective, converged = self._minimize(grouped, grouped_start(theta, self.family.name), n)
            theta = res.x
            sums = objective.at(theta)
            n_iter += res.nit
            n_eval += objective.n_evaluations
            n_rounds += grouped.n_rounds
            message = res.message
            posterior = pd.concat(client.gather(client.map(posterior_of, prepared, grouped.last)), ignore_index=True)
            posterior = posterior.sort_values("label", kind="stable")
            index = pd.Index(posterior["label"].to_numpy(), name=group_col)
            self.n_groups_ = len(posterior)
            self.sigma_ = float(math.exp(theta[-1]))
            self.random_effects_ = pd.Series(posterior["mean"].to_numpy(), index=index, name="random_effect")
            self.random_effects_sd_ = pd.Series(posterior["sd"].to_numpy(), index=index, name="random_effect_sd")
            for f in grouped.last + grouped.warm:
                if f is not None:
                    f.release()

        self._set_results(theta, sums, q)
        self.n_iter_ = int(n_iter)
        self.n_evaluations_ = int(n_eval)
        self.n_rounds_ = int(n_rounds)
        self.converged_ = bool(converged)
        self.convergence_message_ = str(message)
        if not self.converged_:
            warnings.warn(f"DaskIntervalAFT did not converge: {message}", RuntimeWarning, stacklevel=3)
