"""POST /accounts/login, POST /accounts/token (OAuth2 form) and the failed-login rate limit."""

from __future__ import annotations

from datetime import timedelta

import jwt

from cinema.accounts.tables import LoginFailure, RefreshToken
from cinema.clock import utcnow
from tests.accounts.conftest import bearer, login
from tests.conftest import STRONG_PASSWORD


async def test_login_returns_a_token_pair(client, make_user) -> None:
    user = await make_user(email="Nina@Example.com", active=True)

    response = await login(client, "NINA@example.COM")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(user.id)
    assert claims["type"] == "access"
    assert {"sid", "iat", "exp", "jti"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert await RefreshToken.count().where(RefreshToken.user == user.id).run() == 2  # fixture's + this
    me = await client.get("/accounts/me", headers=bearer(body))
    assert me.status_code == 200
    assert me.json()["email"] == "nina@example.com"


async def test_wrong_password_and_unknown_email_get_the_same_401(client, make_user) -> None:
    await make_user(email="olga@example.com")

    wrong = await login(client, "olga@example.com", "Wr0ng!Password")
    unknown = await login(client, "nobody@example.com", STRONG_PASSWORD)

    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "detail": "The email or password is incorrect.",
            "code": "invalid_credentials",
        }
    )
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert await LoginFailure.count().run() == 2  # both count against the limits


async def test_inactive_account_is_403_only_with_the_right_password(client, make_user) -> None:
    await make_user(email="pia@example.com", active=False)

    right = await login(client, "pia@example.com")
    wrong = await login(client, "pia@example.com", "Wr0ng!Password")

    assert right.status_code == 403
    assert right.json()["code"] == "inactive_account"
    assert wrong.status_code == 401  # a wrong password reveals nothing about the account


async def test_oauth2_token_form(client, make_user) -> None:
    user = await make_user(email="quinn@example.com")

    response = await client.post(
        "/accounts/token", data={"username": "Quinn@example.com", "password": STRONG_PASSWORD}
    )

    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    me = await client.get("/accounts/me", headers=bearer(response.json()))
    assert me.json()["id"] == user.id

    bad = await client.post("/accounts/token", data={"username": "quinn@example.com", "password": "x"})
    assert bad.status_code == 401
    assert bad.json()["code"] == "invalid_credentials"
    missing = await client.post("/accounts/token", data={"username": "quinn@example.com"})
    assert missing.status_code == 422


async def test_login_with_an_overlong_password_is_401_not_500(client, make_user) -> None:
    await make_user(email="ray@example.com")
    response = await login(client, "ray@example.com", "Aa1!" + "é" * 40)
    assert response.status_code == 401


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


async def test_login_body_is_validated(client) -> None:
    for body in ({}, {"email": "a@example.com"}, {"email": "a@example.com", "password": ""}):
        response = await client.post("/accounts/login", json=body)
        assert response.status_code == 422
    response = await client.post(
        "/accounts/login",
        json={"email": "a@example.com", "password": STRONG_PASSWORD, "cart_movie_ids": [-1]},
    )
    assert response.status_code == 422
    assert STRONG_PASSWORD not in response.text
