"""What the web app is configured with: the database, the signing key, cookie and throttle settings."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ENV_SECRET = "WEAROFF_SECRET_KEY"
ENV_SECURE_COOKIES = "WEAROFF_SECURE_COOKIES"
ENV_EVIDENCE = "WEAROFF_EVIDENCE"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class WebSettings:
    """Settings of one app instance.

    ``secret_key`` signs the session cookie and the patients' follow-up links (``$WEAROFF_SECRET_KEY``; a random
    key per process otherwise, so sessions end at a restart). ``secure_cookies`` marks the session cookie
    ``Secure`` (``$WEAROFF_SECURE_COOKIES``; turn it on behind HTTPS).
    """

    database_url: str
    secret_key: str = field(default_factory=lambda: os.environ.get(ENV_SECRET) or secrets.token_urlsafe(32))
    secure_cookies: bool = field(default_factory=lambda: _env_flag(ENV_SECURE_COOKIES))
    session_hours: float = 12.0
    login_failures_allowed: int = 5
    login_window_minutes: int = 15
    followup_link_days: int = 14
    evidence_path: Path = field(
        default_factory=lambda: Path(os.environ.get(ENV_EVIDENCE, "../shared/evidence/arms.csv"))
    )
    report_dir: Path | None = None
    """Where the evidence page's validation report is rendered (default: a folder in the user cache)."""
