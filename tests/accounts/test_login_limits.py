"""The failed-login limits (`cinema.accounts.ratelimit`): per account, per client address, and under bursts.

An attempt is recorded before its password is checked, so a burst of
simultaneous wrong passwords cannot all pass the limit (each counting the
failures before any was recorded), and a right password inside the burst
does not sign in: at most LOGIN_MAX_FAILURES of a burst are ever verified.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from cinema.accounts.tables import LoginFailure
from cinema.clock import utcnow
from tests.accounts.conftest import login
from tests.conftest import STRONG_PASSWORD


async def test_a_burst_of_wrong_logins_is_verified_at_most_the_limit(client, make_user, monkeypatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    user = await make_user(email="burst@example.com")
    passwords = [f"Wr0ng!Guess{n}" for n in range(30)]

    responses = await asyncio.gather(*(login(client, user.email, p) for p in passwords))

    codes = Counter(r.status_code for r in responses)
    assert codes == {401: 3, 429: 27}
    assert await LoginFailure.count().where(LoginFailure.email == user.email).run() == 3
    after = await login(client, user.email, STRONG_PASSWORD)
    assert after.status_code == 429
    assert after.json()["code"] == "too_many_requests"


async def test_a_right_password_inside_a_burst_does_not_beat_the_limit(
    client, make_user, monkeypatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    user = await make_user(email="inside@example.com")
    passwords = [f"Wr0ng!Guess{n}" for n in range(30)]

    wrong = await asyncio.gather(*(login(client, user.email, p) for p in passwords[:10]))
    burst = await asyncio.gather(
        *(login(client, user.email, p) for p in [*passwords[10:20], STRONG_PASSWORD])
    )

    assert Counter(r.status_code for r in wrong) == {401: 3, 429: 7}
    assert {r.status_code for r in burst} == {429}


async def test_a_burst_on_the_oauth2_token_form_is_limited_too(client, make_user, monkeypatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    user = await make_user(email="form@example.com")

    responses = await asyncio.gather(
        *(
            client.post("/accounts/token", data={"username": user.email, "password": f"Wr0ng!Guess{n}"})
            for n in range(30)
        )
    )

    assert Counter(r.status_code for r in responses) == {401: 3, 429: 27}
    right = await client.post("/accounts/token", data={"username": user.email, "password": STRONG_PASSWORD})
    assert right.status_code == 429


async def test_right_password_of_an_inactive_account_is_not_counted(client, make_user, monkeypatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    user = await make_user(email="sleepy@example.com", active=False)

    codes = [(await login(client, user.email)).status_code for _ in range(4)]

    assert codes == [403, 403, 403, 403]
    assert await LoginFailure.count().run() == 0


async def test_repeated_failures_lock_the_account_with_429(client, make_user, monkeypatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    await make_user(email="sam@example.com")

    codes = [(await login(client, "sam@example.com", "Wr0ng!Password")).status_code for _ in range(3)]
    locked = await login(client, "sam@example.com")  # even the right password is refused now

    assert codes == [401, 401, 401]
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_requests"
    assert 14 * 60 < int(locked.headers["retry-after"]) <= 15 * 60
    # Another account from the same address is not locked by the account limit.
    await make_user(email="tia@example.com")
    assert (await login(client, "tia@example.com")).status_code == 200

    # Once the failures age out of the window, the account may sign in again.
    await LoginFailure.update({LoginFailure.created_at: utcnow() - timedelta(minutes=16)}, force=True).run()
    assert (await login(client, "sam@example.com")).status_code == 200


async def test_success_clears_the_account_failures(client, make_user, monkeypatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    await make_user(email="uma@example.com")

    assert (await login(client, "uma@example.com", "Wr0ng!Password")).status_code == 401
    assert (await login(client, "uma@example.com")).status_code == 200
    assert (await login(client, "uma@example.com", "Wr0ng!Password")).status_code == 401
    assert (await login(client, "uma@example.com")).status_code == 200


async def test_repeated_failures_from_one_address_are_429_for_every_account(
    client, make_user, monkeypatch
) -> None:
    """The per-address limit is 4x the per-account one (one address may be a whole office)."""
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    await make_user(email="vic@example.com")

    codes = [(await login(client, f"guess{n}@example.com", "Wr0ng!Password")).status_code for n in range(8)]
    blocked = await login(client, "vic@example.com")

    assert codes == [401] * 8
    assert blocked.status_code == 429
    # The counters are rows in the database, shared by every replica of the API.
    rows = await LoginFailure.select(LoginFailure.client_ip).run()
    assert {r["client_ip"] for r in rows} == {"127.0.0.1"}
    assert len(rows) == 8
