"""Shared field types."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, StringConstraints


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must be printable text on one line (no control characters)")
    return value


def text(max_length: int, min_length: int = 0) -> type[str]:
    """A one-line printable text of at most ``max_length`` characters."""
    return Annotated[  # type: ignore[return-value]
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_printable),
    ]


Code = text(64, 1)
Id = text(64, 1)
ShortText = text(100)
PUBLIC = ConfigDict(from_attributes=True)
STRICT_INPUT = ConfigDict(extra="forbid")
