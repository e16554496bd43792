"""The one clock: UTC-aware now, for every domain (times are stored and compared in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)
