"""The house rule: the model and inference layers never import the records layer."""

from __future__ import annotations

import re
from pathlib import Path

import wearoff

PACKAGE = Path(wearoff.__file__).resolve().parent


def test_model_and_inference_do_not_import_records() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+wearoff\.records\b|^\s*from\s+wearoff\s+import\s+.*\brecords\b", re.M)
    offenders = [
        str(path.relative_to(PACKAGE))
        for layer in ("model", "inference")
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
