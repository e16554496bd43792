"""Failed sign-in throttling, per account and per client address.

Counts live in the `login_failures` table, not in process memory, so every
API replica and worker enforces the same limits. Within the sliding window
(`LOGIN_FAILURE_WINDOW_MINUTES`):

- an account (email) is locked after `LOGIN_MAX_FAILURES` failures;
- a client address is locked after `ADDRESS_FACTOR` times that many, because
  one address can be a whole office behind NAT, while one account under attack
  should lock quickly.

A locked caller gets `TooManyRequests` (429) with `retry_after` = seconds until
the oldest failure in the window ages out. The check happens before the
password is verified, so a locked account costs no bcrypt work and reveals
nothing. A successful sign-in clears the account's failures (not the
address's). Old rows are deleted by `maintenance.purge_expired`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from cinema.accounts.security import utcnow
from cinema.accounts.tables import LoginFailure
from cinema.config import get_settings
from cinema.errors import TooManyRequests

#: An address may fail this many times the per-account limit.
ADDRESS_FACTOR = 4
#: Stored widths of the `login_failures` columns.
_EMAIL_MAX = 255
_ADDRESS_MAX = 64


def _key(email: str, client_ip: str | None) -> tuple[str, str]:
    return email.strip().lower()[:_EMAIL_MAX], (client_ip or "unknown")[:_ADDRESS_MAX]


def _window() -> tuple[timedelta, int]:
    settings = get_settings()
    return timedelta(minutes=settings.login_failure_window_minutes), settings.login_max_failures


async def _oldest_if_over(clause: object, limit: int, since: datetime) -> datetime | None:
    """When `limit` or more failures match `clause` since `since`, the oldest one's time."""
    where = clause & (LoginFailure.created_at > since)  # type: ignore[operator]
    count = await LoginFailure.count().where(where).run()
    if count < limit:
        return None
    row = (
        await LoginFailure.select(LoginFailure.created_at)
        .where(where)
        .order_by(LoginFailure.created_at)
        .first()
        .run()
    )
    return row["created_at"] if row else since


async def check(email: str, client_ip: str | None) -> None:
    """Raise `TooManyRequests` (429) when the account or the address is locked out."""
    email, address = _key(email, client_ip)
    window, limit = _window()
    now = utcnow()
    since = now - window
    oldest = await _oldest_if_over(LoginFailure.email == email, limit, since)
    if oldest is None:
        oldest = await _oldest_if_over(LoginFailure.client_ip == address, limit * ADDRESS_FACTOR, since)
    if oldest is None:
        return
    retry_after = max(1, math.ceil((oldest + window - now).total_seconds()))
    minutes = max(1, math.ceil(retry_after / 60))
    raise TooManyRequests(
        f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
        retry_after=retry_after,
    )


async def record_failure(email: str, client_ip: str | None) -> None:
    """Count one failed attempt against the account and the address."""
    email, address = _key(email, client_ip)
    await LoginFailure(email=email, client_ip=address, created_at=utcnow()).save()


async def clear(email: str) -> None:
    """Forget an account's failures (after a successful sign-in or a password reset)."""
    email, _ = _key(email, None)
    await LoginFailure.delete().where(LoginFailure.email == email).run()
