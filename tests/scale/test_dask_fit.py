"""The Dask engine gives the in-process `IntervalAFT` fit, to 1e-6 relative, on a 2-process LocalCluster."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import distributed
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from wearoff.cli import app
from wearoff.scale import ClusterError, DaskIntervalAFT, open_dataset, parse_scheduler, write_partitions
from wearoff.scale.synthetic import simulate_intervals
from wearoff.survival import IntervalAFT

runner = CliRunner()
COVARIATES = ["x1", "x2", "x3"]
RTOL = 1e-6


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[pd.DataFrame, Path]:
    frame = simulate_intervals(1600, rng=7, n_covariates=3, group_size=4)
    frame["group"] = "P" + frame["group"].astype(str).str.zfill(5)
    folder = tmp_path_factory.mktemp("intervals")
    files = write_partitions(frame, folder, "group", n_partitions=5)
    assert len(files) == 5
    return frame, folder


def assert_same_fit(dask_fit: IntervalAFT, ref: IntervalAFT) -> None:
    assert dask_fit.converged_ and ref.converged_
    assert dask_fit.log_likelihood_ == pytest.approx(ref.log_likelihood_, rel=RTOL)
    pd.testing.assert_index_equal(dask_fit.params_.index, ref.params_.index)
    np.testing.assert_allclose(dask_fit.params_.to_numpy(), ref.params_.to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(dask_fit.standard_errors_.to_numpy(), ref.standard_errors_.to_numpy(), rtol=1e-5)
    assert dask_fit.n_obs_ == ref.n_obs_ and dask_fit.n_events_by_kind_ == ref.n_events_by_kind_


@pytest.mark.parametrize("family", ["weibull", "lognormal", "loglogistic"])
def test_dask_fit_equals_in_process_fit(client, data, family: str) -> None:
    frame, folder = data
    ref = IntervalAFT(family).fit(frame, "lower", "upper", COVARIATES)
    fit = DaskIntervalAFT(family).fit(folder, covariates=COVARIATES, client=client)
    assert_same_fit(fit, ref)
    assert fit.n_partitions_ == 5 and fit.n_rounds_ >= fit.n_iter_
    np.testing.assert_allclose(fit.predict_median(frame.head(3)), ref.predict_median(frame.head(3)), rtol=RTOL)


def test_dask_random_intercept_fit_equals_in_process_fit(client, data) -> None:
    frame, folder = data
    ref = IntervalAFT("weibull").fit(frame, "lower", "upper", COVARIATES, group_col="group")
    fit = DaskIntervalAFT("weibull").fit(folder, covariates=COVARIATES, group_col="group", client=client)
    assert_same_fit(fit, ref)
    assert fit.sigma_ == pytest.approx(ref.sigma_, rel=RTOL) and fit.n_groups_ == ref.n_groups_ == 400
    pd.testing.assert_index_equal(fit.random_effects_.index, ref.random_effects_.index)
    np.testing.assert_allclose(fit.random_effects_, ref.random_effects_, rtol=1e-5, atol=1e-8)


def test_default_covariates_are_the_numeric_columns(client, data) -> None:
    _, folder = data
    fit = DaskIntervalAFT("weibull").fit(open_dataset(folder), group_col="group", client=client, covariates=None)
    assert list(fit.params_.index) == ["intercept", *COVARIATES, "log_scale", "log_sigma_re"]


def test_group_split_across_partitions_is_refused(client, tmp_path: Path) -> None:
    frame = simulate_intervals(200, rng=3, n_covariates=2)
    frame.iloc[:100].to_parquet(tmp_path / "a.parquet")
    frame.iloc[98:].to_parquet(tmp_path / "b.parquet")  # rows 98-99 (group 24) in both files
    with pytest.raises(ValueError, match="spans several partitions"):
        DaskIntervalAFT().fit(tmp_path, covariates=["x1", "x2"], group_col="group", client=client)


def test_bad_data_names_the_file(client, tmp_path: Path) -> None:
    frame = simulate_intervals(100, rng=4, n_covariates=2)
    frame.loc[5, "upper"] = -1.0
    frame.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match=r"bad\.parquet.*negative"):
        DaskIntervalAFT().fit(tmp_path, covariates=["x1", "x2"], client=client)
    frame["x1"] = 2.0
    frame.loc[5, "upper"] = np.inf
    frame.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match="constant"):
        DaskIntervalAFT().fit(tmp_path, covariates=["x1", "x2"], client=client)


def test_fit_command_on_a_running_scheduler_matches_the_local_engine(client, data, tmp_path: Path) -> None:
    _, folder = data
    outputs = {}
    for engine in ("local", "dask"):
        out = tmp_path / f"{engine}.json"
        args = ["fit", "--records", str(folder), "--engine", engine, "--scheduler", client.scheduler.address]
        result = runner.invoke(app, [*args, "--group", "group", "--covariates", "x1,x2,x3", "--json", str(out)])
        assert result.exit_code == 0, result.output
        assert "log_sigma_re" in result.output
        outputs[engine] = json.loads(out.read_text())
    local, dask = outputs["local"], outputs["dask"]
    assert dask["log_likelihood"] == pytest.approx(local["log_likelihood"], rel=RTOL)
    for name, row in local["params"].items():
        assert dask["params"][name]["coef"] == pytest.approx(row["coef"], rel=RTOL)


def test_fit_command_reads_a_data_set_given_as_a_uri(data) -> None:
    """``--records`` keeps a URI whole (``file:///...`` here; ``s3://bucket/prefix`` goes the same way)."""
    _, folder = data
    result = runner.invoke(app, ["fit", "--records", Path(folder).resolve().as_uri(), "--covariates", "x1,x2,x3"])
    assert result.exit_code == 0, result.output
    assert "partition(s) in this process" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--records", "/no/such/folder"], "no such file or folder"),
        (["--records", "{data}", "--engine", "dask", "--scheduler", "local:0"], "local:N"),
        (["--records", "{data}", "--engine", "dask", "--scheduler", "local:two"], "local:N"),
        (["--records", "{data}", "--covariates", "x1,nope"], "missing column"),
        (["--records", "{empty}"], "no .parquet files"),
    ],
)
def test_fit_command_errors_are_one_line_with_exit_code_2(data, tmp_path: Path, args: list[str], message: str) -> None:
    _, folder = data
    args = [a.format(data=folder, empty=tmp_path) for a in args]
    result = runner.invoke(app, ["fit", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_parse_scheduler() -> None:
    assert parse_scheduler("local:3") == 3
    assert parse_scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    with pytest.raises(ClusterError):
        parse_scheduler("local")


def test_write_partitions_keeps_each_group_in_one_file(tmp_path: Path) -> None:
    frame = simulate_intervals(500, rng=1, n_covariates=2)
    files = write_partitions(frame, tmp_path, "group", n_partitions=4)
    seen = [set(pd.read_parquet(f)["group"]) for f in files]
    assert sum(len(s) for s in seen) == len(set().union(*seen)) == frame["group"].nunique()
    assert sum(len(pd.read_parquet(f)) for f in files) == len(frame)
