"""Bearer tokens: forged, expired, malformed, wrong type; refresh rotation and reuse; logout; deactivation."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import jwt
import pytest

from cinema.accounts.security import encode_token
from cinema.accounts.tables import RefreshToken, User
from tests.accounts.conftest import bearer, login

SECRET = "test-secret-key-that-is-long-enough-0123456789"  # JWT_SECRET_KEY of the suite


def _claims(
    user_id: int,
    session_id: str,
    token_type: str = "access",  # noqa: S107 - the JWT type claim
    **changes: object,
) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(user_id),
        "sid": session_id,
        "type": token_type,
        "iat": now,
        "exp": now + 600,
        "jti": "abc",
    }
    claims.update(changes)
    return claims


async def _session_id(user_id: int) -> str:
    """The session key of the user's (first) session: the `sid` its tokens carry."""
    row = (
        await RefreshToken.select(RefreshToken.session_key).where(RefreshToken.user == user_id).first().run()
    )
    assert row is not None
    return str(row["session_key"])


def _assert_401(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert set(response.json()) == {"detail", "code"}


async def test_missing_token_is_401(client) -> None:
    _assert_401(await client.get("/accounts/me"))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Bearer " + "x" * 5000,
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30.",
    ],
)
async def test_malformed_tokens_are_401(client, header: str) -> None:
    _assert_401(await client.get("/accounts/me", headers={"Authorization": header}))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_forged_tokens_are_401(client, make_user) -> None:
    user = await make_user()
    sid = await _session_id(user.id)
    claims = _claims(user.id, sid)
    # A correctly signed token with the same claims works, so the forgeries fail for their forgery alone.
    genuine = jwt.encode(claims, SECRET, algorithm="HS256")
    assert (
        await client.get("/accounts/me", headers={"Authorization": f"Bearer {genuine}"})
    ).status_code == 200

    forged = {
        "alg none": jwt.encode(claims, None, algorithm="none"),  # type: ignore[arg-type]
        "wrong key": jwt.encode(claims, "another-secret-key-of-sufficient-length!", algorithm="HS256"),
        "HS512": jwt.encode(claims, SECRET, algorithm="HS512"),  # right key, algorithm not allowed
        "tampered": genuine[:-4] + ("AAAA" if not genuine.endswith("AAAA") else "BBBB"),
        "other user": jwt.encode(
            {**claims, "sub": str(user.id + 1)}, "nope-nope-nope-nope-nope-nope-nope", "HS256"
        ),
    }
    for name, token in forged.items():
        response = await client.get("/accounts/me", headers={"Authorization": f"Bearer {token}"})
        _assert_401(response)
        assert response.json()["code"] == "invalid_token", name


async def test_signed_tokens_with_bad_claims_are_401(client, make_user) -> None:
    user = await make_user()
    sid = await _session_id(user.id)
    bad_claims = [
        _claims(user.id, sid, sub="not-a-number"),
        _claims(user.id, sid, sid="x"),
        {k: v for k, v in _claims(user.id, sid).items() if k != "sid"},
        {k: v for k, v in _claims(user.id, sid).items() if k != "exp"},
        _claims(user.id, sid, type="admin"),
        _claims(user.id + 1000, sid),  # a session that is not this user's
        _claims(user.id, sid[:-1] + ("A" if sid[-1] != "A" else "B")),  # no such session
        _claims(user.id, 1),  # the old integer session ids name nothing any more
        _claims(user.id, sid + "x"),  # not a session key's shape
    ]
    for claims in bad_claims:
        token = jwt.encode(claims, SECRET, algorithm="HS256")
        _assert_401(await client.get("/accounts/me", headers={"Authorization": f"Bearer {token}"}))


async def test_expired_access_token_is_401(client, make_user) -> None:
    user = await make_user()
    token, _ = encode_token(user.id, await _session_id(user.id), "access", timedelta(seconds=-5))

    response = await client.get("/accounts/me", headers={"Authorization": f"Bearer {token}"})

    _assert_401(response)
    assert response.json()["code"] == "token_expired"


async def test_refresh_token_is_not_an_access_token(client, make_user) -> None:
    user = await make_user()
    _assert_401(await client.get("/accounts/me", headers={"Authorization": f"Bearer {user.refresh_token}"}))
    access = user.headers["Authorization"].split()[1]
    refreshed = await client.post("/accounts/refresh", json={"refresh_token": access})
    _assert_401(refreshed)
    assert refreshed.json()["code"] == "invalid_token"


async def test_refresh_rotates_and_the_old_refresh_token_dies(client, make_user) -> None:
    user = await make_user()

    response = await client.post("/accounts/refresh", json={"refresh_token": user.refresh_token})

    assert response.status_code == 200
    pair = response.json()
    assert pair["refresh_token"] != user.refresh_token
    assert pair["token_type"] == "bearer"
    assert (await client.get("/accounts/me", headers=bearer(pair))).status_code == 200
    # Access tokens already issued in the session keep working until they expire or the session ends.
    assert (await client.get("/accounts/me", headers=user.headers)).status_code == 200
    # The new refresh token rotates again.
    again = await client.post("/accounts/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200


async def test_reusing_a_rotated_refresh_token_ends_the_session(client, make_user) -> None:
    user = await make_user()
    rotated = (await client.post("/accounts/refresh", json={"refresh_token": user.refresh_token})).json()

    reuse = await client.post("/accounts/refresh", json={"refresh_token": user.refresh_token})

    _assert_401(reuse)
    assert reuse.json()["code"] == "invalid_token"
    # The whole session is gone: the legitimate holder's new tokens die too.
    _assert_401(await client.get("/accounts/me", headers=bearer(rotated)))
    _assert_401(await client.post("/accounts/refresh", json={"refresh_token": rotated["refresh_token"]}))
    assert await RefreshToken.count().where(RefreshToken.user == user.id).run() == 0


async def test_expired_or_garbage_refresh_token_is_401_invalid_token(client, make_user) -> None:
    user = await make_user()
    expired, _ = encode_token(user.id, await _session_id(user.id), "refresh", timedelta(seconds=-5))
    for token in (
        expired,
        "garbage",
        jwt.encode(_claims(user.id, "k" * 43, "refresh"), "wrong-key-wrong-key-wrong-key-wrong-key!!"),
    ):
        response = await client.post("/accounts/refresh", json={"refresh_token": token})
        _assert_401(response)
        assert response.json()["code"] == "invalid_token"
    assert (await client.post("/accounts/refresh", json={})).status_code == 422


async def test_logout_kills_refresh_and_access_tokens_at_once(client, make_user) -> None:
    user = await make_user()
    other_session = (await login(client, user.email)).json()

    response = await client.post(
        "/accounts/logout", headers=user.headers, json={"refresh_token": user.refresh_token}
    )

    assert response.status_code == 204
    assert response.content == b""
    _assert_401(await client.get("/accounts/me", headers=user.headers))
    _assert_401(await client.post("/accounts/refresh", json={"refresh_token": user.refresh_token}))
    # Only that session ended.
    assert (await client.get("/accounts/me", headers=bearer(other_session))).status_code == 200
    # Logging out needs a live access token.
    again = await client.post(
        "/accounts/logout", headers=user.headers, json={"refresh_token": user.refresh_token}
    )
    _assert_401(again)


async def test_logout_ignores_another_users_refresh_token(client, make_user) -> None:
    alice = await make_user()
    bob = await make_user()

    response = await client.post(
        "/accounts/logout", headers=alice.headers, json={"refresh_token": bob.refresh_token}
    )

    assert response.status_code == 204
    _assert_401(await client.get("/accounts/me", headers=alice.headers))
    assert (await client.get("/accounts/me", headers=bob.headers)).status_code == 200


async def test_deactivated_or_deleted_users_live_token_is_401(client, make_user) -> None:
    user = await make_user()
    assert (await client.get("/accounts/me", headers=user.headers)).status_code == 200

    await User.update({User.active: False}).where(User.id == user.id).run()
    _assert_401(await client.get("/accounts/me", headers=user.headers))
    _assert_401(await client.post("/accounts/refresh", json={"refresh_token": user.refresh_token}))

    other = await make_user()
    await User.delete().where(User.id == other.id).run()
    _assert_401(await client.get("/accounts/me", headers=other.headers))


async def test_token_kind_messages_use_the_right_article(client, make_user) -> None:
    user = await make_user()
    as_access = await client.get("/accounts/me", headers={"Authorization": f"Bearer {user.refresh_token}"})
    access = user.headers["Authorization"].split()[1]
    as_refresh = await client.post("/accounts/refresh", json={"refresh_token": access})

    assert as_access.status_code == as_refresh.status_code == 401
    assert as_access.json()["detail"] == "An access token is required."
    assert as_refresh.json()["detail"] == "A refresh token is required."


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_correctly_signed_tokens_with_absurd_claims_are_401_not_500(client, make_user) -> None:
    user = await make_user()
    row = await RefreshToken.select(RefreshToken.id).where(RefreshToken.user == user.id).first().run()
    assert row is not None
    sid = int(row["id"])
    for claims in (
        _claims(2**63, sid),
        _claims(2**31, sid),
        _claims(0, sid),
        _claims(user.id, 2**63),
        _claims(user.id, -1),
        _claims(user.id, sid, exp=10**20),
        _claims(user.id, sid, exp=2**70),
    ):
        token = jwt.encode(claims, SECRET, algorithm="HS256")
        response = await client.get("/accounts/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (claims, response.text)
        assert response.json()["code"] == "invalid_token"


async def test_concurrent_refreshes_of_one_token_rotate_once(client, make_user) -> None:
    user = await make_user()

    responses = await asyncio.gather(
        *(client.post("/accounts/refresh", json={"refresh_token": user.refresh_token}) for _ in range(4))
    )

    assert sum(r.status_code == 200 for r in responses) <= 1
    assert all(r.status_code in (200, 401) for r in responses)
