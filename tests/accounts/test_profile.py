"""GET /accounts/me and GET/PATCH /accounts/me/profile."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from cinema.accounts.actor import GroupName
from cinema.accounts.tables import UserProfile
from cinema.clock import utcnow

EMPTY = {
    "display_name": None,
    "first_name": None,
    "last_name": None,
    "gender": None,
    "date_of_birth": None,
    "info": None,
    "avatar_url": None,
}


async def test_me(client, make_user) -> None:
    user = await make_user(group=GroupName.MODERATOR)

    response = await client.get("/accounts/me", headers=user.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user.id
    assert body["email"] == user.email
    assert body["group"] == "MODERATOR"
    assert body["is_active"] is True
    assert body["profile"] == EMPTY
    assert "password" not in response.text
    assert "hashed_password" not in response.text


async def test_profile_read_and_partial_update(client, make_user, signup) -> None:
    tokens = await signup("dan@example.com")  # registered through the API: has a profile row
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/accounts/me/profile", headers=headers)).json() == EMPTY

    first = await client.patch(
        "/accounts/me/profile",
        headers=headers,
        json={"first_name": " Dan ", "last_name": "Brown", "gender": "MALE", "date_of_birth": "1990-05-17"},
    )
    assert first.status_code == 200
    assert first.json() == {
        **EMPTY,
        "first_name": "Dan",
        "last_name": "Brown",
        "gender": "MALE",
        "date_of_birth": "1990-05-17",
    }

    # Only the fields sent change; null clears one.
    second = await client.patch(
        "/accounts/me/profile", headers=headers, json={"info": "Likes noir.", "last_name": None}
    )
    assert second.json() == {
        **EMPTY,
        "first_name": "Dan",
        "gender": "MALE",
        "date_of_birth": "1990-05-17",
        "info": "Likes noir.",
    }
    assert (await client.get("/accounts/me/profile", headers=headers)).json() == second.json()
    assert (await client.get("/accounts/me", headers=headers)).json()["profile"] == second.json()
    [row] = await UserProfile.select(UserProfile.date_of_birth, UserProfile.gender).run()
    assert row == {"date_of_birth": date(1990, 5, 17), "gender": "MALE"}


async def test_profile_is_created_when_missing(client, make_user) -> None:
    user = await make_user()  # made straight in the table: no profile row yet
    assert await UserProfile.count().run() == 0

    response = await client.patch("/accounts/me/profile", headers=user.headers, json={"gender": "FEMALE"})

    assert response.status_code == 200
    assert response.json() == {**EMPTY, "gender": "FEMALE"}
    assert await UserProfile.count().where(UserProfile.user == user.id).run() == 1


async def test_profile_validation(client, make_user) -> None:
    user = await make_user()
    tomorrow = (utcnow().date() + timedelta(days=1)).isoformat()
    bad_bodies = [
        {"gender": "OTHER"},
        {"gender": "male"},
        {"date_of_birth": tomorrow},
        {"date_of_birth": "17/05/1990"},
        {"first_name": "x" * 101},
        {"info": "x" * 5001},
        {"avatar_url": "http://evil.example/x.png"},  # not writable here
    ]
    for body in bad_bodies:
        response = await client.patch("/accounts/me/profile", headers=user.headers, json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
    today = await client.patch(
        "/accounts/me/profile", headers=user.headers, json={"date_of_birth": utcnow().date().isoformat()}
    )
    assert today.status_code == 200


async def test_profile_needs_a_user(client) -> None:
    assert (await client.get("/accounts/me/profile")).status_code == 401
    assert (await client.patch("/accounts/me/profile", json={"info": "x"})).status_code == 401


async def test_display_name_is_set_trimmed_and_cleared(client, make_user) -> None:
    user = await make_user()

    response = await client.patch(
        "/accounts/me/profile", headers=user.headers, json={"display_name": "  Night\u00a0 Owl  "}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {**EMPTY, "display_name": "Night Owl"}
    stored = (
        await UserProfile.select(UserProfile.display_name).where(UserProfile.user == user.id).first().run()
    )
    assert stored == {"display_name": "Night Owl"}
    # Composed and decomposed spellings are one name (stored NFC).
    decomposed = await client.patch(
        "/accounts/me/profile", headers=user.headers, json={"display_name": "Cine\u0301phile"}
    )
    assert decomposed.json()["display_name"] == "Cin\u00e9phile"
    longest = await client.patch(
        "/accounts/me/profile", headers=user.headers, json={"display_name": "é" * 50}
    )
    assert longest.status_code == 200
    assert longest.json()["display_name"] == "é" * 50
    for cleared in (None, "   "):
        response = await client.patch(
            "/accounts/me/profile", headers=user.headers, json={"display_name": cleared}
        )
        assert response.status_code == 200
        assert response.json()["display_name"] is None


@pytest.mark.parametrize(
    "name",
    [
        "x" * 51,
        "Nul\u0000byte",
        "tab\there",
        "new\nline",
        "bell\u0007",
        "right\u202eto-left",  # a bidi override reorders what other readers see
        "zero\u200bwidth",
        "line\u2028separator",
        "private\ue000use",
        "lone\ud800surrogate",
        "Member 7",
        "member #12",
        "MEMBER12",
    ],
)
async def test_display_name_refuses_control_invisible_long_and_handle_like_names(
    client, make_user, name
) -> None:
    user = await make_user()
    await client.patch("/accounts/me/profile", headers=user.headers, json={"display_name": "Kept"})

    # Sent as escaped ASCII JSON, so a lone surrogate arrives as a client could send it.
    response = await client.patch(
        "/accounts/me/profile",
        headers={**user.headers, "Content-Type": "application/json"},
        content=json.dumps({"display_name": name}),
    )

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert (await client.get("/accounts/me/profile", headers=user.headers)).json()["display_name"] == "Kept"


async def test_display_name_of_a_wrong_type_is_422(client, make_user) -> None:
    user = await make_user()
    for value in (42, ["a"], {"a": 1}, True):
        response = await client.patch(
            "/accounts/me/profile", headers=user.headers, json={"display_name": value}
        )
        assert response.status_code == 422, value


@pytest.mark.parametrize("value", [0, 1.5, "0", "17.05.1990", True])
async def test_a_date_of_birth_must_be_iso_text(client, make_user, value) -> None:
    """Numbers are refused, not read as Unix timestamps (`0` used to store 1970-01-01)."""
    user = await make_user()
    response = await client.patch("/accounts/me/profile", headers=user.headers, json={"date_of_birth": value})

    assert response.status_code == 422, response.text
    assert (await client.get("/accounts/me/profile", headers=user.headers)).json()["date_of_birth"] is None
