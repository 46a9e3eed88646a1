"""Fits over partitioned record sets on Dask: the same estimates as in memory, for registries that do not fit in
one process.

* :class:`DaskIntervalAFT`: :class:`wearoff.survival.IntervalAFT` whose likelihood sums are evaluated partition
  by partition on the workers and added on the client;
* :func:`open_dataset` / :func:`write_partitions`: partitioned Parquet data sets (groups never split);
* :func:`connect`: a client on ``local:N`` or a scheduler address.
"""

from wearoff.scale.cluster import ClusterError, connect, parse_scheduler
from wearoff.scale.dataset import DatasetError, ParquetDataset, open_dataset, write_partitions
from wearoff.scale.engine import DaskIntervalAFT

__all__ = [
    "ClusterError",
    "DaskIntervalAFT",
    "DatasetError",
    "ParquetDataset",
    "connect",
    "open_dataset",
    "parse_scheduler",
    "write_partitions",
]
