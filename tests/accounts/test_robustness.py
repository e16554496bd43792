"""Concurrency, the event loop during password hashing, the OpenAPI document, the cleanup task."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from cinema.accounts.tables import ActivationToken, RefreshToken, User
from cinema.clock import utcnow
from tests.accounts.conftest import login, register
from tests.conftest import STRONG_PASSWORD

ACCOUNTS_OPERATIONS = {
    ("post", "/accounts/register"),
    ("post", "/accounts/activate"),
    ("get", "/accounts/activate"),
    ("post", "/accounts/activation/resend"),
    ("post", "/accounts/login"),
    ("post", "/accounts/token"),
    ("post", "/accounts/refresh"),
    ("post", "/accounts/logout"),
    ("post", "/accounts/password/change"),
    ("post", "/accounts/password/forgot"),
    ("post", "/accounts/password/reset"),
    ("get", "/accounts/me"),
    ("get", "/accounts/me/profile"),
    ("patch", "/accounts/me/profile"),
    ("get", "/accounts/users"),
    ("get", "/accounts/users/{user_id}"),
    ("patch", "/accounts/users/{user_id}/group"),
    ("post", "/accounts/users/{user_id}/activate"),
    ("post", "/accounts/users/{user_id}/deactivate"),
}


async def test_concurrent_sign_ups_for_one_email_make_one_account(client, outbox) -> None:
    emails = ["race@example.com", "RACE@example.com", "Race@Example.com", "race@EXAMPLE.com"]

    responses = await asyncio.gather(*(register(client, email) for email in emails))

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"email_taken"}
    assert await User.count().run() == 1
    assert len(await outbox()) == 1


async def test_concurrent_refreshes_of_one_token_rotate_once(client, make_user) -> None:
    user = await make_user()

    responses = await asyncio.gather(
        *(client.post("/accounts/refresh", json={"refresh_token": user.refresh_token}) for _ in range(4))
    )

    assert sum(r.status_code == 200 for r in responses) <= 1
    assert all(r.status_code in (200, 401) for r in responses)


async def test_password_hashing_does_not_block_the_event_loop(client, make_user, monkeypatch) -> None:
    """bcrypt runs in worker threads: other coroutines keep running during a burst of logins."""
    monkeypatch.setenv("PASSWORD_HASH_ROUNDS", "11")  # ~0.1-0.2 s per hash: long enough to notice
    user = await make_user()
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    responses = await asyncio.gather(*(login(client, user.email, STRONG_PASSWORD) for _ in range(3)))
    elapsed = time.perf_counter() - started
    done.set()
    await tick

    assert [r.status_code for r in responses] == [200, 200, 200]
    # Hashing on the loop would stall it for a whole hash (about a third of `elapsed` or more).
    assert max(gaps) < elapsed / 4, (max(gaps), elapsed)


async def test_every_accounts_operation_is_documented(app) -> None:
    document = app.openapi()
    documented = {
        (method, path)
        for path, operations in document["paths"].items()
        if path.startswith("/accounts")
        for method in operations
    }
    assert documented >= ACCOUNTS_OPERATIONS
    # No trailing-slash twins in the document, and no password in any response model.
    assert not any(path.endswith("/") for path in document["paths"] if path.startswith("/accounts"))
    schemas = document["components"]["schemas"]
    for name in ("UserOut", "ProfileOut", "TokenOut"):
        assert "password" not in schemas[name]["properties"]


async def test_the_scheduled_cleanup_task_purges_expired_rows(make_user) -> None:
    from cinema.tasks import broker, purge_expired_tokens

    user = await make_user()  # its live session stays
    await ActivationToken(user=user.id, token="e" * 64, expires_at=utcnow() - timedelta(seconds=1)).save()
    await RefreshToken(user=user.id, token="f" * 64, expires_at=utcnow() - timedelta(seconds=1)).save()

    task = await purge_expired_tokens.kiq()
    await broker.wait_all()
    result = await task.wait_result(timeout=10)

    assert result.return_value == {
        "activation_tokens": 1,
        "password_reset_tokens": 0,
        "refresh_tokens": 1,
        "login_failures": 0,
        "mail_requests": 0,
    }
    assert await RefreshToken.count().run() == 1
