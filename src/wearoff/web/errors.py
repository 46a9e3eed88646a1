"""What services raise when they refuse a request; both doors (pages and API) turn them into responses."""

from __future__ import annotations

from dataclasses import dataclass


class ServiceError(Exception):
    """A request the services refused; ``message`` says why."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(ServiceError):
    """No such record in the user's clinic (another clinic's records are not found either)."""

    status_code = 404


class ForbiddenError(ServiceError):
    """The user's role does not allow this."""

    status_code = 403


class ThrottledError(ServiceError):
    """Too many failed sign-ins; ``retry_after`` seconds until the next attempt is accepted."""

    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotAuthenticatedError(ServiceError):
    """No valid session or API token."""

    status_code = 401


@dataclass(frozen=True)
class FieldProblem:
    """One bad value: the field it belongs to (``""`` for the request as a whole) and what is wrong."""

    field: str
    message: str


class InvalidInputError(ServiceError):
    """Bad input; nothing was stored. ``problems`` names each bad field."""

    status_code = 422

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in self.problems))

    @classmethod
    def one(cls, field: str, message: str) -> InvalidInputError:
        """A refusal naming one field."""
        return cls([FieldProblem(field, message)])

    def by_field(self) -> dict[str, str]:
        """Field -> message (the first problem of each field), for forms."""
        out: dict[str, str] = {}
        for p in self.problems:
            out.setdefault(p.field, p.message)
        return out
