"""QA findings on accounts: LIKE wildcards in the user search, uniform forgot/resend timing,
messages (token kinds, staff deactivation), and out-of-range JWT claims."""

from __future__ import annotations

import statistics
import time

import jwt
import pytest

from cinema.accounts.actor import GroupName
from cinema.accounts.security import UNIFORM_ANSWER_SECONDS
from cinema.accounts.tables import RefreshToken
from tests.accounts.conftest import login
from tests.accounts.test_tokens import SECRET, _claims


async def test_user_search_treats_like_wildcards_literally(client, make_user) -> None:
    admin = await make_user(email="root@example.com", group=GroupName.ADMIN)
    await make_user(email="under_score@example.com")
    await make_user(email="plain@example.com")

    async def emails(term: str) -> list[str]:
        response = await client.get("/accounts/users", params={"email": term}, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [u["email"] for u in response.json()["items"]]

    assert await emails("_") == ["under_score@example.com"]
    assert await emails("%") == []
    assert await emails("d_r") == []  # a wildcard would match "under"
    assert await emails("R_SC") == ["under_score@example.com"]
    assert await emails("\\") == []
    assert await emails("example.com") == ["root@example.com", "under_score@example.com", "plain@example.com"]


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


async def test_token_kind_messages_use_the_right_article(client, make_user) -> None:
    user = await make_user()
    as_access = await client.get("/accounts/me", headers={"Authorization": f"Bearer {user.refresh_token}"})
    access = user.headers["Authorization"].split()[1]
    as_refresh = await client.post("/accounts/refresh", json={"refresh_token": access})

    assert as_access.status_code == as_refresh.status_code == 401
    assert as_access.json()["detail"] == "An access token is required."
    assert as_refresh.json()["detail"] == "A refresh token is required."


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
