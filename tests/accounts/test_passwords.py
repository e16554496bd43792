"""Password change, forgot and reset."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from cinema.accounts.security import sha256
from cinema.accounts.tables import LoginFailure, PasswordResetToken, RefreshToken
from cinema.clock import utcnow
from tests.accounts.conftest import bearer, login, reset_token
from tests.conftest import STRONG_PASSWORD, text_of

NEW_PASSWORD = "N3w!Passw0rd-2"


async def test_change_password_revokes_other_sessions_and_emails(client, make_user, outbox) -> None:
    user = await make_user()
    other = (await login(client, user.email)).json()

    response = await client.post(
        "/accounts/password/change",
        headers=user.headers,
        json={"old_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 204
    # This session goes on; the other one ended (access and refresh).
    assert (await client.get("/accounts/me", headers=user.headers)).status_code == 200
    assert (await client.get("/accounts/me", headers=bearer(other))).status_code == 401
    assert (
        await client.post("/accounts/refresh", json={"refresh_token": other["refresh_token"]})
    ).status_code == 401
    assert (
        await client.post("/accounts/refresh", json={"refresh_token": user.refresh_token})
    ).status_code == 200
    # Only the new password works.
    assert (await login(client, user.email)).status_code == 401
    assert (await login(client, user.email, NEW_PASSWORD)).status_code == 200
    [mail] = await outbox()
    assert mail["To"] == user.email
    assert mail["Subject"] == "Your Cinema password was changed"


async def test_change_password_with_wrong_old_password_is_400(client, make_user, outbox) -> None:
    user = await make_user()

    response = await client.post(
        "/accounts/password/change",
        headers=user.headers,
        json={"old_password": "Wr0ng!Password", "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "The current password is not correct.", "code": "wrong_password"}
    assert (await login(client, user.email)).status_code == 200
    assert await outbox() == []


async def test_change_password_weak_is_422_and_wrong_guesses_are_limited(
    client, make_user, monkeypatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    user = await make_user()

    weak = await client.post(
        "/accounts/password/change",
        headers=user.headers,
        json={"old_password": STRONG_PASSWORD, "new_password": "short"},
    )
    assert weak.status_code == 422
    assert weak.json()["detail"][0]["loc"] == ["body", "new_password"]
    assert "short" not in weak.text
    assert STRONG_PASSWORD not in weak.text

    codes = [
        (
            await client.post(
                "/accounts/password/change",
                headers=user.headers,
                json={"old_password": f"Wr0ng!Guess{n}", "new_password": NEW_PASSWORD},
            )
        ).status_code
        for n in range(3)
    ]
    assert codes == [400, 400, 429]


async def test_change_password_needs_a_user(client) -> None:
    response = await client.post(
        "/accounts/password/change", json={"old_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 401


async def test_forgot_is_always_202_and_mails_only_active_accounts(client, make_user, outbox) -> None:
    active = await make_user(email="wes@example.com")
    await make_user(email="xia@example.com", active=False)

    responses = [
        await client.post("/accounts/password/forgot", json={"email": email})
        for email in ("WES@example.com", "xia@example.com", "nobody@example.com")
    ]

    assert [r.status_code for r in responses] == [202, 202, 202]
    assert len({r.text for r in responses}) == 1  # identical answers
    [mail] = await outbox()
    assert mail["To"] == "wes@example.com"
    assert mail["Subject"] == "Reset your Cinema password"
    token = reset_token(mail)
    [row] = await PasswordResetToken.select().run()
    assert row["user_id"] == active.id
    assert row["token"] == sha256(token)
    assert timedelta(minutes=59) < row["expires_at"] - utcnow() <= timedelta(hours=1)
    assert "within 1 hour(s)" in text_of(mail)


async def test_reset_sets_the_password_ends_all_sessions_and_is_single_use(
    client, make_user, outbox, monkeypatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "1")
    user = await make_user(email="yan@example.com")
    assert (await login(client, user.email, "Wr0ng!Password")).status_code == 401  # now locked
    await client.post("/accounts/password/forgot", json={"email": user.email})
    token = reset_token((await outbox())[0])

    response = await client.post(
        "/accounts/password/reset",
        json={"email": "Yan@Example.com", "token": token, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 204
    assert await RefreshToken.count().where(RefreshToken.user == user.id).run() == 0
    assert (await client.get("/accounts/me", headers=user.headers)).status_code == 401
    assert await LoginFailure.count().run() == 0  # the lockout is lifted by the reset
    assert (await login(client, user.email, NEW_PASSWORD)).status_code == 200
    assert [m["Subject"] for m in await outbox()] == [
        "Reset your Cinema password",
        "Your Cinema password was changed",
    ]

    again = await client.post(
        "/accounts/password/reset",
        json={"email": user.email, "token": token, "new_password": "An0ther!Passw0rd"},
    )
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_token"
    assert (await login(client, user.email, NEW_PASSWORD)).status_code == 200


async def test_reset_with_expired_unknown_replaced_or_foreign_token_is_400(client, make_user, outbox) -> None:
    zoe = await make_user(email="zoe@example.com")
    await make_user(email="abe@example.com")
    await client.post("/accounts/password/forgot", json={"email": "zoe@example.com"})
    first = reset_token((await outbox())[0])
    await client.post("/accounts/password/forgot", json={"email": "zoe@example.com"})
    second = reset_token((await outbox())[1])
    assert await PasswordResetToken.count().run() == 1  # a new token replaces the old

    async def reset(email: str, token: str) -> int:
        response = await client.post(
            "/accounts/password/reset", json={"email": email, "token": token, "new_password": NEW_PASSWORD}
        )
        if response.status_code == 400:
            assert response.json()["code"] == "invalid_token"
        return response.status_code

    assert await reset("zoe@example.com", first) == 400  # replaced
    assert await reset("zoe@example.com", "made-up") == 400
    assert await reset("abe@example.com", second) == 400  # another account's token
    await PasswordResetToken.update(
        {PasswordResetToken.expires_at: utcnow() - timedelta(seconds=1)}, force=True
    ).run()
    assert await reset("zoe@example.com", second) == 400  # expired
    assert (await login(client, zoe.email)).status_code == 200  # password unchanged


async def test_reset_weak_password_is_422_without_echo(client, make_user, outbox) -> None:
    await make_user(email="bea@example.com")
    await client.post("/accounts/password/forgot", json={"email": "bea@example.com"})
    token = reset_token((await outbox())[0])
    weak = "Aa1!" + "é" * 40

    response = await client.post(
        "/accounts/password/reset", json={"email": "bea@example.com", "token": token, "new_password": weak}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "weak_password"
    assert weak not in response.text
    assert token not in response.text
    assert await PasswordResetToken.count().run() == 1  # not used up


async def test_reset_for_an_account_deactivated_since_is_400(client, make_user, outbox) -> None:
    from cinema.accounts.tables import User

    user = await make_user(email="cal@example.com")
    await client.post("/accounts/password/forgot", json={"email": user.email})
    token = reset_token((await outbox())[0])
    await User.update({User.active: False}).where(User.id == user.id).run()

    response = await client.post(
        "/accounts/password/reset", json={"email": user.email, "token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400


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
