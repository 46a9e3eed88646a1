"""Shared fixtures: the published evidence and the shipped parameters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wearoff.model.parameters import Parameters, load_parameters

EVIDENCE = Path(__file__).resolve().parents[2] / "shared" / "evidence" / "arms.csv"


@pytest.fixture(scope="session")
def evidence_path() -> Path:
    assert EVIDENCE.exists(), f"the published evidence is expected at {EVIDENCE}"
    return EVIDENCE


@pytest.fixture(scope="session")
def params() -> Parameters:
    return load_parameters()


STRICT_ENV = "WEAROFF_STRICT_TESTS"
"""Set by ``make test`` (and so CI), which provides everything the suite needs (PostgreSQL, Chromium, the
evidence, the test extras): there, a test that would skip fails instead, naming what is missing."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get(STRICT_ENV) and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in a run that must provide everything ({STRICT_ENV} is set): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_collectreport(report: pytest.CollectReport) -> object:
    """Module-level skips (``pytest.importorskip``, ``pytest.skip(allow_module_level=True)``) happen at collection,
    where :func:`pytest_runtest_makereport` never sees them: in a strict run they fail too."""
    if report.skipped and os.environ.get(STRICT_ENV):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = (
            f"{report.nodeid} skipped at collection in a run that must provide everything ({STRICT_ENV} is set): "
            f"{reason} (`make test` provides what the suite needs)"
        )
    yield
