"""Shared fixtures: the published evidence and the shipped parameters."""

from __future__ import annotations

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
