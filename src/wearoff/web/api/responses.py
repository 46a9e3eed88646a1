"""The error responses every API route may give, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    """An error: ``detail`` says what was wrong (for 422, a list naming each bad field)."""

    detail: Any


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No valid API token"},
    403: {"model": Problem, "description": "The user's role does not allow this"},
    404: {"model": Problem, "description": "Not found in the user's clinic"},
    422: {"model": Problem, "description": "Bad input; nothing was stored"},
}
