"""Who is asking, and what their role lets them do."""

from __future__ import annotations

from dataclasses import dataclass

from wearoff.web.errors import ForbiddenError

ROLE_LABELS = {"admin": "Administrator", "injector": "Injector", "front_desk": "Front desk"}

PERMISSIONS: dict[str, frozenset[str]] = {
    "patients.read": frozenset({"admin", "injector", "front_desk"}),
    "patients.write": frozenset({"admin", "injector", "front_desk"}),
    "appointments.write": frozenset({"admin", "injector", "front_desk"}),
    "due.read": frozenset({"admin", "injector", "front_desk"}),
    "clinical.read": frozenset({"admin", "injector"}),
    "clinical.write": frozenset({"admin", "injector"}),
    "records.export": frozenset({"admin", "injector"}),
    "records.import": frozenset({"admin"}),
    "audit.read": frozenset({"admin"}),
    "users.manage": frozenset({"admin"}),
}
"""Permission -> the roles that have it. Front desk: demographics, the due list and bookings, nothing clinical."""

PERMISSION_TEXT = {
    "patients.read": "see patients",
    "patients.write": "add or correct patients",
    "appointments.write": "book visits",
    "due.read": "see the due list",
    "clinical.read": "see treatments, scores and forecasts",
    "clinical.write": "chart treatments and record scores",
    "records.export": "export records",
    "records.import": "import records",
    "audit.read": "read the audit log",
    "users.manage": "manage users",
}


@dataclass(frozen=True)
class Actor:
    """The signed-in user (or a patient using a follow-up link) and their clinic."""

    user_id: int | None
    username: str
    display_name: str
    role: str
    clinic_id: int
    clinic: str

    def can(self, permission: str) -> bool:
        """Whether the role has ``permission`` (see :data:`PERMISSIONS`)."""
        return self.role in PERMISSIONS[permission]

    def require(self, permission: str) -> None:
        """Raise :class:`ForbiddenError` unless the role has ``permission``."""
        if not self.can(permission):
            role = ROLE_LABELS.get(self.role, self.role)
            raise ForbiddenError(f"your role ({role}) may not {PERMISSION_TEXT[permission]}")

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)
