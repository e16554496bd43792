"""POST /accounts/login and POST /accounts/token (OAuth2 form); the limits are in test_login_limits.py."""

from __future__ import annotations

import jwt

from cinema.accounts.actor import GroupName
from cinema.accounts.tables import LoginFailure, RefreshToken
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


async def test_staff_deactivated_user_is_told_so_at_login(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    user = await make_user(email="gone@example.com")
    never = await make_user(email="new@example.com", active=False)
    assert (
        await client.post(f"/accounts/users/{user.id}/deactivate", headers=admin.headers)
    ).status_code == 200

    deactivated = await login(client, user.email, user.password)
    not_yet = await login(client, never.email, never.password)

    assert deactivated.status_code == not_yet.status_code == 403
    assert deactivated.json() == {
        "detail": "This account was deactivated by staff. Contact support to have it re-activated.",
        "code": "inactive_account",
    }
    assert not_yet.json() == {
        "detail": "This account is not active. Check your email for the activation link.",
        "code": "inactive_account",
    }
