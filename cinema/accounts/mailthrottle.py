"""Throttling of the anonymous endpoints that send email (forgot password, resend activation).

Anyone may ask for these emails for any address, so without a limit one
client could flood a mailbox (or spend the shop's sending reputation). Within
the sliding window `EMAIL_THROTTLE_WINDOW_MINUTES` (default 60):

- one target address gets at most `EMAIL_MAX_PER_ADDRESS` such requests
  (default 3), whichever client asks and whichever of the two endpoints;
- one client address may make at most `EMAIL_MAX_PER_CLIENT` (default 10),
  whatever addresses it names.

Every request counts, whether or not the account exists (the count must not
tell), and is recorded only when let through, so a client that keeps asking
does not push its own window forward. A throttled request sends nothing but
gets the same 202 answer as any other, after the same delay: the caller learns
nothing about the account, and a legitimate owner simply asks again later.

Counts live in the `mail_requests` table (like `login_failures`), so every API
replica enforces the same limits; old rows are deleted by
`maintenance.purge_expired`. Count and insert run under the address's and the
client's locks (PostgreSQL advisory transaction locks; SQLite's `BEGIN
IMMEDIATE` serialises writers), so a burst of simultaneous requests is counted
one by one.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from cinema.accounts.tables import MailRequest
from cinema.clock import utcnow
from cinema.config import get_settings
from cinema.db import is_postgres, transaction

log = logging.getLogger("cinema.accounts.mail")

#: First keys of the PostgreSQL advisory locks taken by `admit` (arbitrary, fixed; see ratelimit).
_LOCK_ADDRESS = 7403
_LOCK_CLIENT = 7404
#: Stored widths of the `mail_requests` columns.
_EMAIL_MAX = 255
_ADDRESS_MAX = 64


async def admit(kind: str, email: str, client_ip: str | None) -> bool:
    """Count one request to email `email` (already normalised) on behalf of `client_ip`.

    Returns True, after recording it, when both the address and the client are
    under their limits; False, recording nothing, when either is over. Call it
    inside the transaction that would send, so a rolled-back request does not count.
    """
    settings = get_settings()
    email = email[:_EMAIL_MAX]
    address = (client_ip or "")[:_ADDRESS_MAX]
    async with transaction():
        if is_postgres():
            for namespace, key in ((_LOCK_ADDRESS, email), (_LOCK_CLIENT, address)):
                await MailRequest.raw("SELECT pg_advisory_xact_lock({}, hashtext({}))", namespace, key).run()
        now = utcnow()
        since = now - timedelta(minutes=settings.email_throttle_window_minutes)
        recent = MailRequest.created_at > since
        if await MailRequest.count().where(recent, MailRequest.email == email).run() >= (
            settings.email_max_per_address
        ):
            log.info(
                "%s email not sent: the address had %d in the window", kind, settings.email_max_per_address
            )
            return False
        # Without a known client address only the target's limit applies: one shared
        # "unknown" client would let anyone silence everyone.
        if (
            client_ip is not None
            and await MailRequest.count().where(recent, MailRequest.client_ip == address).run()
            >= settings.email_max_per_client
        ):
            log.info(
                "%s email not sent: client %s made %d requests in the window",
                kind,
                address,
                settings.email_max_per_client,
            )
            return False
        await MailRequest.insert(MailRequest(kind=kind, email=email, client_ip=address, created_at=now)).run()
    return True
