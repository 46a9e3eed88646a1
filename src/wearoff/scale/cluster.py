"""Where the Dask engine runs: ``local:N`` (a ``LocalCluster`` of N single-threaded worker processes) or the
address of a running scheduler (``tcp://host:8786``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["ClusterError", "connect", "parse_scheduler"]


class ClusterError(ValueError):
    """The scheduler cannot be started or reached (the message says which and what to give instead)."""


def parse_scheduler(spec: str) -> int | str:
    """``local:N`` -> ``N`` (workers to start here); anything else is taken as a scheduler address."""
    spec = spec.strip()
    if spec.startswith("local"):
        _, _, count = spec.partition(":")
        try:
            n = int(count) if count else 0
        except ValueError:
            n = 0
        if n < 1:
            raise ClusterError(f"--scheduler {spec!r}: write local:N with N >= 1 worker processes, e.g. local:2")
        return n
    if not spec or " " in spec:
        raise ClusterError(f"--scheduler {spec!r}: give local:N or a scheduler address such as tcp://host:8786")
    return spec


@contextmanager
def connect(spec: str, timeout: float = 10.0) -> Iterator[Any]:
    """A ``distributed.Client`` on ``spec`` (see :func:`parse_scheduler`); a local cluster is shut down after."""
    from distributed import Client, LocalCluster

    target = parse_scheduler(spec)
    if isinstance(target, int):
        with (
            LocalCluster(
                n_workers=target, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            yield client
        return
    try:
        client = Client(target, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {target!r} ({type(exc).__name__}: {exc})") from exc
    try:
        yield client
    finally:
        client.close()
