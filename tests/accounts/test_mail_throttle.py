"""Anonymous endpoints that send email (forgot, resend): throttled per target address and per client
address, and as slow for an unknown address as for a known one.

`POST /accounts/password/forgot` and `POST /accounts/activation/resend` answer
the same 202 whatever happens; past `EMAIL_MAX_PER_ADDRESS` requests for one
address (both endpoints together) or `EMAIL_MAX_PER_CLIENT` requests from one
client in `EMAIL_THROTTLE_WINDOW_MINUTES`, they silently send nothing. Counts
live in the database, so every replica enforces the same limit.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cinema.accounts.security import UNIFORM_ANSWER_SECONDS
from cinema.accounts.tables import MailRequest
from cinema.clock import utcnow
from cinema.config import get_settings

FORGOT = "/accounts/password/forgot"
RESEND = "/accounts/activation/resend"


@asynccontextmanager
async def client_from(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `address` (the app sees it as `request.client.host`)."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def answer(response: httpx.Response) -> tuple[int, str, str | None]:
    """What a caller can tell apart: status, body and content type (the request id always differs)."""
    return response.status_code, response.text, response.headers.get("content-type")


async def test_forgot_mails_one_address_at_most_the_limit_and_answers_the_same(
    client, make_user, outbox
) -> None:
    user = await make_user(email="flood@example.com")

    responses = [await client.post(FORGOT, json={"email": user.email}) for _ in range(5)]

    assert {answer(r) for r in responses} == {answer(responses[0])}
    assert responses[0].status_code == 202
    mails = await outbox()
    assert [m["To"] for m in mails] == [user.email] * 3  # EMAIL_MAX_PER_ADDRESS defaults to 3
    assert await MailRequest.count().where(MailRequest.email == user.email).run() == 3


async def test_the_address_limit_counts_both_endpoints_and_unknown_addresses(
    client, make_user, outbox
) -> None:
    inactive = await make_user(email="pending@example.com", active=False)

    # Forgot does not mail an inactive account, but it is a request for the address all the same.
    await client.post(FORGOT, json={"email": inactive.email})
    await client.post(FORGOT, json={"email": "PENDING@example.com"})
    sent = await client.post(RESEND, json={"email": inactive.email})
    throttled = await client.post(RESEND, json={"email": inactive.email})
    for _ in range(3):
        await client.post(FORGOT, json={"email": "nobody@example.com"})

    assert answer(sent) == answer(throttled)
    assert [m["To"] for m in await outbox()] == [inactive.email]
    counts = {
        email: await MailRequest.count().where(MailRequest.email == email).run()
        for email in (inactive.email, "nobody@example.com")
    }
    assert counts == {inactive.email: 3, "nobody@example.com": 3}


async def test_the_window_slides(client, make_user, outbox) -> None:
    user = await make_user(email="later@example.com")
    for _ in range(4):
        await client.post(FORGOT, json={"email": user.email})
    assert len(await outbox()) == 3

    # An hour later the oldest requests have left the window.
    await MailRequest.update({MailRequest.created_at: utcnow() - timedelta(minutes=61)}, force=True).run()
    await client.post(FORGOT, json={"email": user.email})

    assert len(await outbox()) == 4


async def test_one_client_cannot_mail_many_addresses(
    app, make_user, outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMAIL_MAX_PER_CLIENT", "2")
    get_settings.cache_clear()
    users = [await make_user(email=f"victim{n}@example.com") for n in range(3)]

    async with client_from(app, "203.0.113.7") as attacker:
        answers = [answer(await attacker.post(FORGOT, json={"email": u.email})) for u in users]
    async with client_from(app, "198.51.100.2") as neighbour:
        own = await neighbour.post(FORGOT, json={"email": users[2].email})

    assert len(set(answers)) == 1
    assert own.status_code == 202
    assert [m["To"] for m in await outbox()] == [users[0].email, users[1].email, users[2].email]
    by_client = {
        address: await MailRequest.count().where(MailRequest.client_ip == address).run()
        for address in ("203.0.113.7", "198.51.100.2")
    }
    assert by_client == {"203.0.113.7": 2, "198.51.100.2": 1}


async def test_many_clients_still_cannot_flood_one_address(app, make_user, outbox) -> None:
    user = await make_user(email="target@example.com")

    for n in range(6):
        async with client_from(app, f"192.0.2.{n + 1}") as http:
            assert (await http.post(FORGOT, json={"email": user.email})).status_code == 202

    assert len(await outbox()) == 3


async def test_replicas_share_the_counts(app, make_user, outbox) -> None:
    """Two app instances (two replicas) over one database enforce one limit."""
    from cinema.api.app import create_app

    user = await make_user(email="shared@example.com")
    replicas = [app, create_app()]

    for round_ in range(2):
        for replica in replicas:
            async with client_from(replica, "192.0.2.50") as http:
                await http.post(FORGOT, json={"email": user.email})
        assert len(await outbox()) == min(3, 2 * (round_ + 1))


async def test_a_burst_of_simultaneous_requests_is_counted_one_by_one(client, make_user, outbox) -> None:
    user = await make_user(email="burst@example.com")

    responses = await asyncio.gather(*(client.post(FORGOT, json={"email": user.email}) for _ in range(8)))

    assert {r.status_code for r in responses} == {202}
    assert len(await outbox()) == 3
    assert await MailRequest.count().run() == 3


async def test_the_cleanup_task_forgets_requests_past_the_window(make_user) -> None:
    from cinema.accounts.maintenance import purge_expired

    now = utcnow()
    for age in (timedelta(minutes=90), timedelta(minutes=5)):
        await MailRequest(
            kind="activation", email="x@example.com", client_ip="192.0.2.1", created_at=now - age
        ).save()

    counts = await purge_expired()

    assert counts["mail_requests"] == 1
    assert await MailRequest.count().run() == 1


@pytest.mark.parametrize(
    ("path", "active"), [("/accounts/password/forgot", True), ("/accounts/activation/resend", False)]
)
async def test_forgot_and_resend_take_as_long_for_unknown_emails(
    client, make_user, outbox, path, active
) -> None:
    user = await make_user(email="known@example.com", active=active)

    async def timed(email: str) -> float:
        started = time.monotonic()
        response = await client.post(path, json={"email": email})
        assert response.status_code == 202
        return time.monotonic() - started

    known = [await timed(user.email) for _ in range(5)]
    unknown = [await timed(f"nobody{n}@example.com") for n in range(5)]

    assert min(known + unknown) >= UNIFORM_ANSWER_SECONDS
    assert abs(statistics.median(known) - statistics.median(unknown)) < 0.02
    assert {m["To"] for m in await outbox()} == {user.email}
