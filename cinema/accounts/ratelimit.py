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

The limit must hold for a burst of simultaneous attempts too, so an attempt is
*recorded before* its password is verified (`reserve`): under a per-account
and per-address lock, the failures are counted and, when under the limit, the
attempt's row is inserted and committed. Of N concurrent attempts at most
`LOGIN_MAX_FAILURES` get a row (the others answer 429 without a password
check). A wrong password simply keeps its row (it is the failure); a right
one clears the account (`clear`) or drops just its own row (`release`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from cinema.accounts.tables import LoginFailure
from cinema.clock import utcnow
from cinema.config import get_settings
from cinema.db import is_postgres, transaction
from cinema.errors import TooManyRequests

#: An address may fail this many times the per-account limit.
ADDRESS_FACTOR = 4
#: First keys of the PostgreSQL advisory locks taken by `reserve` (arbitrary, fixed).
_LOCK_ACCOUNT = 7401
_LOCK_ADDRESS = 7402
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


def _locked(oldest: datetime, window: timedelta, now: datetime) -> TooManyRequests:
    retry_after = max(1, math.ceil((oldest + window - now).total_seconds()))
    minutes = max(1, math.ceil(retry_after / 60))
    return TooManyRequests(
        f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
        retry_after=retry_after,
    )


async def reserve(email: str, client_ip: str | None) -> int:
    """Record one sign-in attempt before its password is checked; returns the attempt's row id.

    The row counts as a failure until the caller `release`s it or `clear`s the
    account. Raises `TooManyRequests` (429), recording nothing, when the
    account already has `LOGIN_MAX_FAILURES` or the address `ADDRESS_FACTOR`
    times that many in the window. Count and insert happen in one transaction
    that holds the account's and the address's lock (PostgreSQL advisory
    transaction locks, always account first; SQLite's `BEGIN IMMEDIATE`
    serialises writers anyway), so simultaneous attempts are counted one by one.
    """
    email, address = _key(email, client_ip)
    window, limit = _window()
    async with transaction():
        if is_postgres():
            for namespace, key in ((_LOCK_ACCOUNT, email), (_LOCK_ADDRESS, address)):
                await LoginFailure.raw("SELECT pg_advisory_xact_lock({}, hashtext({}))", namespace, key).run()
        now = utcnow()
        since = now - window
        oldest = await _oldest_if_over(LoginFailure.email == email, limit, since)
        # Without a known address (the admin UI's sign-in) only the account's limit applies:
        # one shared "unknown" address would let anyone lock everyone out.
        if oldest is None and client_ip is not None:
            oldest = await _oldest_if_over(LoginFailure.client_ip == address, limit * ADDRESS_FACTOR, since)
        if oldest is not None:
            raise _locked(oldest, window, now)
        rows = (
            await LoginFailure.insert(LoginFailure(email=email, client_ip=address, created_at=now))
            .returning(LoginFailure.id)
            .run()
        )
    return int(rows[0]["id"])


async def release(attempt_id: int) -> None:
    """Forget one reserved attempt (it was not a failure, e.g. the right password of an inactive account)."""
    await LoginFailure.delete().where(LoginFailure.id == attempt_id).run()


async def clear(email: str) -> None:
    """Forget an account's failures (after a successful sign-in or a password reset)."""
    email, _ = _key(email, None)
    await LoginFailure.delete().where(LoginFailure.email == email).run()
