"""Partitioned Parquet data sets of interval-censored durations: find the files, read the schema, write them.

A data set is a folder (local, or a URI such as ``s3://bucket/prefix`` that ``pyarrow.fs`` understands) of
``*.parquet`` files with the columns ``lower``, ``upper`` (days; ``inf`` = right-censored), numeric covariates and
optionally a group column. Each file is one partition. For a random-intercept fit, a group must lie in one file:
:func:`write_partitions` splits rows by a stable hash of the group label, so every row of a patient lands in the
same file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

__all__ = [
    "DatasetError",
    "ParquetDataset",
    "numeric_columns",
    "open_dataset",
    "write_partitions",
]


class DatasetError(ValueError):
    """The data set cannot be found or read (the message says where and what to do)."""


@dataclass(frozen=True)
class ParquetDataset:
    """The files of a partitioned Parquet data set, the filesystem that reads them and their columns."""

    location: str
    filesystem: Any
    files: tuple[str, ...]
    columns: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.files)

    def read(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The whole data set in memory, files in order (for the in-process engine and tests)."""
        frames = [pq.read_table(f, columns=columns, filesystem=self.filesystem).to_pandas() for f in self.files]
        return pd.concat(frames, ignore_index=True)


def _filesystem(location: str) -> tuple[Any, str]:
    if "://" in location:
        try:
            return pafs.FileSystem.from_uri(location)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise DatasetError(f"{location}: cannot open this location ({exc})") from exc
    return pafs.LocalFileSystem(), str(Path(location).resolve())


def open_dataset(location: str | os.PathLike[str]) -> ParquetDataset:
    """List the ``*.parquet`` files under ``location`` (recursively, sorted) and read the common schema."""
    location = str(location)
    fs, path = _filesystem(location)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise DatasetError(f"{location} does not exist; give a folder of Parquet files")
    if info.type == pafs.FileType.File:
        files = [path] if path.endswith(".parquet") else []
    else:
        selector = pafs.FileSelector(path, recursive=True)
        files = sorted(
            i.path for i in fs.get_file_info(selector) if i.type == pafs.FileType.File and i.path.endswith(".parquet")
        )
    if not files:
        raise DatasetError(f"{location} holds no .parquet files; give a folder of Parquet partitions")
    try:
        schema = pq.read_schema(files[0], filesystem=fs)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"{files[0]}: not a readable Parquet file ({exc})") from exc
    return ParquetDataset(location, fs, tuple(files), tuple(schema.names))


def _bucket(label: Any, n_partitions: int) -> int:
    digest = hashlib.blake2b(str(label).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % n_partitions


def write_partitions(
    df: pd.DataFrame, folder: str | os.PathLike[str], group_col: str, n_partitions: int = 8
) -> list[Path]:
    """Write ``df`` as ``part-00000.parquet`` ... with every group in exactly one file (hash of the label).

    Existing ``part-*.parquet`` files in ``folder`` are replaced; empty partitions are not written.
    """
    if n_partitions < 1:
        raise ValueError("n_partitions must be at least 1")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    labels = df[group_col].drop_duplicates()
    bucket_of = {label: _bucket(label, n_partitions) for label in labels}
    buckets = df[group_col].map(bucket_of).to_numpy()
    written = []
    for b in range(n_partitions):
        rows = df.loc[buckets == b]
        if rows.empty:
            continue
        target = folder / f"part-{b:05d}.parquet"
        pq.write_table(pa.Table.from_pandas(rows.reset_index(drop=True), preserve_index=False), target)
        written.append(target)
    return written


def numeric_columns(dataset: ParquetDataset) -> list[str]:
    """Names of the numeric (integer, float or boolean) columns of the data set's schema, in order."""
    schema = pq.read_schema(dataset.files[0], filesystem=dataset.filesystem)
    out = []
    for name in schema.names:
        t = schema.field(name).type
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
            out.append(name)
    return out
