"""Commands of the clinic's own outcomes: ``wearoff analytics`` (HTML report) and ``wearoff fit`` (an
interval-censored AFT fit in this process or on a Dask cluster)."""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from wearoff.cli.apps import app
from wearoff.cli.common import console, fail, fail_on_bad_rows, user_errors
from wearoff.cli.records_commands import ClinicOption, DatabaseUrlOption, records_session


class Engine(StrEnum):
    local = "local"
    dask = "dask"


class FamilyName(StrEnum):
    weibull = "weibull"
    loglogistic = "loglogistic"
    lognormal = "lognormal"


@contextmanager
def _fit_errors(records: str = "the records folder") -> Iterator[None]:
    """Records, data set, cluster and model-input errors as one line with exit code 2 (the bad rows of the
    ``records`` folder listed first)."""
    from wearoff.records.errors import RecordsError, RecordsImportError
    from wearoff.scale import ClusterError, DatasetError

    try:
        with user_errors():
            yield
    except RecordsImportError as exc:
        fail_on_bad_rows(exc, records, "nothing fitted")
    except (RecordsError, DatasetError, ClusterError) as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(f"cannot fit: {exc}")


def _is_records_folder(path: Path) -> bool:
    from wearoff.records.csv_io import TREATMENTS

    return path.is_dir() and (path / TREATMENTS).exists()


def _fit_table(model: Any, title: str) -> Table:
    summary = model.summary
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in ("parameter", "coef", "exp(coef)", "se", "95 % interval of exp(coef)", "p"):
        if column == "parameter":  # names are never cut: they are what the reader looks up
            table.add_column(column, no_wrap=True, min_width=max(len(str(n)) for n in summary.index))
        else:
            table.add_column(column, justify="right", overflow="fold")
    lo, hi = summary.columns[3], summary.columns[4]
    for name, row in summary.iterrows():
        table.add_row(
            str(name), f"{row['coef']:.4f}", f"{row['exp(coef)']:.4g}", f"{row['se(coef)']:.4f}",
            f"{math.exp(row[lo]):.4g} - {math.exp(row[hi]):.4g}", f"{row['p']:.3g}",
        )  # fmt: skip
    return table


def _fit_json(model: Any, engine: str, seconds: float, source: str) -> dict[str, Any]:
    summary = model.summary
    fields = {"coef": "coef", "se": "se(coef)", "lower95": summary.columns[3], "upper95": summary.columns[4], "p": "p"}
    return {
        "source": source,
        "engine": engine,
        "family": model.family.name,
        "n_obs": model.n_obs_,
        "n_by_kind": model.n_events_by_kind_,
        "n_groups": model.n_groups_,
        "log_likelihood": model.log_likelihood_,
        "AIC": model.AIC_,
        "converged": model.converged_,
        "n_iter": model.n_iter_,
        "seconds": seconds,
        "params": {
            str(name): {key: float(row[col]) for key, col in fields.items()} for name, row in summary.iterrows()
        },
    }


@app.command("fit")
def fit_command(
    records: Annotated[
        str,
        typer.Option(
            "--records",
            help="A partitioned Parquet data set (folder of .parquet files with lower, upper, covariates, optional "
            "group column; s3:// style URIs too) or a records CSV folder (converted to durations first).",
        ),
    ],
    engine: Annotated[Engine, typer.Option("--engine", help="Fit in this process or on a Dask cluster.")] = (
        Engine.local
    ),
    scheduler: Annotated[
        str,
        typer.Option("--scheduler", help="local:N (start N worker processes here) or a scheduler address."),
    ] = "local:2",
    family: Annotated[FamilyName, typer.Option("--family", help="AFT error distribution.")] = FamilyName.weibull,
    group: Annotated[
        str | None, typer.Option("--group", help="Random intercept per value of this column (records: patient).")
    ] = None,
    covariates: Annotated[
        str | None,
        typer.Option("--covariates", help="Comma-separated covariate columns (default: every numeric column)."),
    ] = None,
    lower: Annotated[str, typer.Option("--lower", help="Column of the lower bound (days).")] = "lower",
    upper: Annotated[str, typer.Option("--upper", help="Column of the upper bound (days; inf = censored).")] = "upper",
    partitions: Annotated[
        int, typer.Option("--partitions", min=1, help="Parquet files to write when converting records.")
    ] = 8,
    parquet_out: Annotated[
        Path | None, typer.Option("--parquet-out", help="Keep the converted records here (default: a temp folder).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the fit as JSON to this file.")] = None,
) -> None:
    """Fit an interval-censored AFT model (Weibull, log-logistic or log-normal, optional random intercept)."""
    from wearoff.scale import DaskIntervalAFT, connect, open_dataset, parse_scheduler
    from wearoff.survival import IntervalAFT

    source = records  # a string: a Path would fold s3://bucket into s3:/bucket
    is_uri = "://" in source
    if not is_uri and not Path(source).exists():
        fail(f"--records {source}: no such file or folder; give a Parquet data set or a records CSV folder")
    if engine is Engine.dask:
        with _fit_errors():
            parse_scheduler(scheduler)  # a bad --scheduler fails before any work
    chosen = [c.strip() for c in covariates.split(",") if c.strip()] if covariates else None
    with tempfile.TemporaryDirectory(prefix="wearoff-fit-") as scratch, _fit_errors(records):
        if not is_uri and _is_records_folder(Path(source)):
            from wearoff.scale.convert import GROUP_ALIASES, records_to_parquet

            if group is not None and group not in GROUP_ALIASES:
                fail(f"--group {group!r}: a records folder can be grouped by patient only")
            group = GROUP_ALIASES.get(group, None) if group else None
            target = parquet_out or Path(scratch) / "durations"
            converted = records_to_parquet(source, target, partitions)
            d = converted.durations
            console.print(
                f"{len(d.table)} treatments with a wear-off interval from {source} "
                f"({d.n_excluded} of {d.n_treatments} excluded: {d.excluded}); {len(converted.files)} Parquet files "
                f"in {target}",
                highlight=False,
            )
            chosen = chosen or converted.design.covariates
            source = str(target)
        dataset = open_dataset(source)
        started = time.perf_counter()
        if engine is Engine.local:
            frame = dataset.read()
            if chosen is None:
                chosen = [
                    c for c in frame.columns
                    if c not in (lower, upper, group) and frame[c].dtype.kind in "biuf"
                ]  # fmt: skip
            model = IntervalAFT(family.value).fit(frame, lower, upper, chosen, group_col=group)
        else:
            with connect(scheduler) as client:
                started = time.perf_counter()  # the fit, not the cluster's start
                model = DaskIntervalAFT(family.value).fit(dataset, lower, upper, chosen, group_col=group, client=client)
        seconds = time.perf_counter() - started
    where = f"{len(dataset)} partition(s)" + (f" on {scheduler}" if engine is Engine.dask else " in this process")
    title = (
        f"{family.value} AFT, {model.n_obs_} rows, {where}: log-likelihood {model.log_likelihood_:.4f}, "
        f"{model.n_iter_} iterations, {seconds:.2f} s" + ("" if model.converged_ else " (NOT converged)")
    )
    console.print(_fit_table(model, title))
    kinds = ", ".join(f"{v} {k}" for k, v in model.n_events_by_kind_.items() if v)
    console.print(f"rows: {kinds}" + (f"; {model.n_groups_} groups ({group})" if model.n_groups_ else ""))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(_fit_json(model, engine.value, seconds, records), indent=2))
        console.print(f"fit written to {json_out}")


@app.command("analytics")
def analytics_command(
    records: Annotated[
        Path | None,
        typer.Option("--records", help="A records CSV folder (default: the clinic in the records database)."),
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder of the report.")] = Path("analytics"),
    clinic: ClinicOption = "default",
    database_url: DatabaseUrlOption = None,
) -> None:
    """The clinic's own outcomes: time to wear-off by area, product and injector, an AFT model of what makes
    treatments last, and the clinic against the published evidence (an HTML report)."""
    from wearoff.analytics.report import write_report
    from wearoff.records.errors import RecordsError, RecordsImportError

    if records is not None:
        from wearoff.records.csv_io import read_folder

        try:
            histories = read_folder(records)
        except RecordsImportError as exc:
            fail_on_bad_rows(exc, records, "no report written")
        except RecordsError as exc:
            fail(str(exc))
        source = str(records)
    else:
        from wearoff.records import db
        from wearoff.records.repository import clinic_histories

        url = database_url or db.database_url()
        with records_session(url) as session:
            histories = clinic_histories(session, clinic)
        source = f"clinic {clinic!r} in {db.mask_url(url)}"
    with user_errors(), console.status("fitting and drawing"):
        try:
            path = write_report(histories, output, source=source)
        except ValueError as exc:
            fail(f"no report: {exc}")
    console.print(f"report written to {path}")
