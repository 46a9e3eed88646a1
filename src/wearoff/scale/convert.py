"""A records CSV folder as a partitioned Parquet data set of wear-off intervals, ready for ``wearoff fit``.

Rows are the durations of :func:`wearoff.analytics.treatment_durations` with the covariates of
:func:`wearoff.analytics.design.aft_design` (``lower``, ``upper``, covariates, ``patient_id``), split by a hash of
the patient id so that a patient's treatments share one file (a random intercept per patient needs that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from wearoff.analytics.design import Design, aft_design
from wearoff.analytics.durations import Durations, treatment_durations
from wearoff.records.csv_io import read_folder
from wearoff.scale.dataset import write_partitions

__all__ = ["ConvertedRecords", "records_to_parquet"]

GROUP_ALIASES = {"patient": "patient_id", "patient_id": "patient_id"}
"""``--group`` names accepted for a records folder."""


@dataclass
class ConvertedRecords:
    """What :func:`records_to_parquet` wrote: the files, the durations (with exclusions) and the design."""

    files: list[Path]
    durations: Durations
    design: Design


def records_to_parquet(
    records: str | os.PathLike[str], folder: str | os.PathLike[str], n_partitions: int = 8
) -> ConvertedRecords:
    """Read a records CSV folder, derive the intervals and covariates, write ``part-*.parquet`` by patient."""
    durations = treatment_durations(read_folder(records))
    design = aft_design(durations.table)
    files = write_partitions(design.frame, folder, "patient_id", n_partitions)
    return ConvertedRecords(files, durations, design)
