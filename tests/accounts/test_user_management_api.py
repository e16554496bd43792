"""The /accounts/users routes (ADMIN): list and show users, change group, activate and deactivate."""

from __future__ import annotations

import pytest

from cinema.accounts.actor import GroupName
from cinema.accounts.tables import ActivationToken, RefreshToken, User
from tests.accounts.conftest import activation_token, login, register

ADMIN_CALLS = [
    ("GET", "/accounts/users"),
    ("GET", "/accounts/users/1"),
    ("PATCH", "/accounts/users/1/group"),
    ("POST", "/accounts/users/1/activate"),
    ("POST", "/accounts/users/1/deactivate"),
]


@pytest.mark.parametrize("group", [GroupName.USER, GroupName.MODERATOR])
async def test_admin_endpoints_are_403_below_admin(client, make_user, group: GroupName) -> None:
    caller = await make_user(group=group)
    for method, path in ADMIN_CALLS:
        response = await client.request(method, path, headers=caller.headers, json={"group": "ADMIN"})
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == "permission_denied"
    [row] = await User.select(User.group.name.as_alias("group")).where(User.id == caller.id).run()
    assert row["group"] == group.value  # nobody promoted themselves


async def test_admin_endpoints_are_401_anonymous(client) -> None:
    for method, path in ADMIN_CALLS:
        response = await client.request(method, path, json={"group": "ADMIN"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


async def test_list_users_with_filters_and_paging(client, make_user) -> None:
    admin = await make_user(email="root@example.com", group=GroupName.ADMIN)
    mod = await make_user(email="mod@example.com", group=GroupName.MODERATOR)
    for n in range(5):
        await make_user(email=f"viewer{n}@films.example", active=n % 2 == 0)

    async def users(**params: object) -> dict:  # type: ignore[type-arg]
        response = await client.get("/accounts/users", headers=admin.headers, params=params)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    everyone = await users()
    assert everyone["total"] == 7
    assert everyone["page"] == 1
    assert everyone["per_page"] == 20
    assert everyone["pages"] == 1
    assert [u["id"] for u in everyone["items"]] == sorted(u["id"] for u in everyone["items"])
    assert set(everyone["items"][0]) == {"id", "email", "group", "is_active", "created_at", "profile"}

    by_email = await users(email="FILMS.example")
    assert by_email["total"] == 5
    assert {u["email"] for u in by_email["items"]} == {f"viewer{n}@films.example" for n in range(5)}
    assert (await users(group="MODERATOR"))["items"][0]["id"] == mod.id
    assert (await users(group="MODERATOR"))["total"] == 1
    inactive = await users(is_active="false")
    assert {u["email"] for u in inactive["items"]} == {"viewer1@films.example", "viewer3@films.example"}
    combined = await users(email="viewer", is_active="true", group="USER")
    assert combined["total"] == 3

    page2 = await users(per_page=3, page=2)
    assert page2["total"] == 7
    assert page2["pages"] == 3
    assert [u["id"] for u in page2["items"]] == [u["id"] for u in everyone["items"][3:6]]
    past_the_end = await users(per_page=3, page=9)
    assert past_the_end["items"] == []
    assert past_the_end["total"] == 7

    for bad in ({"per_page": 0}, {"per_page": 101}, {"page": 0}, {"group": "ROOT"}, {"is_active": "maybe"}):
        response = await client.get("/accounts/users", headers=admin.headers, params=bad)
        assert response.status_code == 422, bad
    slash = await client.get("/accounts/users/", headers=admin.headers)
    assert slash.status_code == 200


async def test_get_user_with_profile_and_404(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    registered = (await register(client, "kai@example.com")).json()
    await client.post(f"/accounts/users/{registered['id']}/activate", headers=admin.headers)

    response = await client.get(f"/accounts/users/{registered['id']}", headers=admin.headers)

    assert response.status_code == 200
    assert response.json()["email"] == "kai@example.com"
    assert response.json()["profile"]["first_name"] is None
    missing = await client.get("/accounts/users/999999", headers=admin.headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "user_not_found"
    for bad in ("0", "abc", str(2**40)):
        assert (await client.get(f"/accounts/users/{bad}", headers=admin.headers)).status_code == 422


async def test_change_group_keeps_admin_flags_in_step(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    user = await make_user()

    async def flags() -> dict:  # type: ignore[type-arg]
        row = (
            await User.select(User.admin, User.superuser, User.group.name.as_alias("group"))
            .where(User.id == user.id)
            .first()
            .run()
        )
        assert row is not None
        return row

    expected = {
        "MODERATOR": {"admin": True, "superuser": False, "group": "MODERATOR"},
        "ADMIN": {"admin": True, "superuser": True, "group": "ADMIN"},
        "USER": {"admin": False, "superuser": False, "group": "USER"},
    }
    for group, row in expected.items():
        response = await client.patch(
            f"/accounts/users/{user.id}/group", headers=admin.headers, json={"group": group}
        )
        assert response.status_code == 200
        assert response.json()["group"] == group
        assert await flags() == row

    # The change ended the user's sessions; the new role holds from their next sign-in.
    await client.patch(f"/accounts/users/{user.id}/group", headers=admin.headers, json={"group": "ADMIN"})
    assert (await client.get("/accounts/users", headers=user.headers)).status_code == 401
    signed_in = await client.post("/accounts/login", json={"email": user.email, "password": user.password})
    fresh = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert (await client.get("/accounts/users", headers=fresh)).status_code == 200

    bad = await client.patch(
        f"/accounts/users/{user.id}/group", headers=admin.headers, json={"group": "ROOT"}
    )
    assert bad.status_code == 422
    missing = await client.patch(
        "/accounts/users/999999/group", headers=admin.headers, json={"group": "USER"}
    )
    assert missing.status_code == 404


async def test_the_last_admin_cannot_demote_or_deactivate_themselves(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)

    demote = await client.patch(
        f"/accounts/users/{admin.id}/group", headers=admin.headers, json={"group": "USER"}
    )
    deactivate = await client.post(f"/accounts/users/{admin.id}/deactivate", headers=admin.headers)

    assert demote.status_code == deactivate.status_code == 409
    assert demote.json()["code"] == deactivate.json()["code"] == "last_admin"
    second = await make_user(group=GroupName.ADMIN)
    ok = await client.patch(
        f"/accounts/users/{admin.id}/group", headers=second.headers, json={"group": "USER"}
    )
    assert ok.status_code == 200


async def test_manual_activation_and_deactivation(client, make_user, outbox) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    registered = (await register(client, "lou@example.com")).json()
    assert await ActivationToken.count().run() == 1

    activated = await client.post(f"/accounts/users/{registered['id']}/activate", headers=admin.headers)

    assert activated.status_code == 200
    assert activated.json()["is_active"] is True
    assert await ActivationToken.count().run() == 0  # the emailed link is no longer needed
    tokens = (await login(client, "lou@example.com")).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/accounts/me", headers=headers)).status_code == 200

    deactivated = await client.post(f"/accounts/users/{registered['id']}/deactivate", headers=admin.headers)

    assert deactivated.status_code == 200
    assert deactivated.json()["is_active"] is False
    assert (await client.get("/accounts/me", headers=headers)).status_code == 401
    assert await RefreshToken.count().where(RefreshToken.user == registered["id"]).run() == 0
    assert (await login(client, "lou@example.com")).status_code == 403
    for action in ("activate", "deactivate"):
        response = await client.post(f"/accounts/users/999999/{action}", headers=admin.headers)
        assert response.status_code == 404


async def test_a_deactivated_account_cannot_reactivate_itself(client, make_user, outbox) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    user_id = (await register(client, "ned@example.com")).json()["id"]
    [mail] = await outbox()
    token = activation_token(mail)

    await client.post(f"/accounts/users/{user_id}/deactivate", headers=admin.headers)

    # The pending link is void, and resending gives no new one (the answer is the same 202).
    stale = await client.post("/accounts/activate", json={"email": "ned@example.com", "token": token})
    assert stale.status_code == 400
    assert stale.json()["code"] == "invalid_token"
    resend = await client.post("/accounts/activation/resend", json={"email": "ned@example.com"})
    assert resend.status_code == 202
    assert len(await outbox()) == 1
    assert (await login(client, "ned@example.com")).status_code == 403

    # Staff can activate it again.
    assert (
        await client.post(f"/accounts/users/{user_id}/activate", headers=admin.headers)
    ).status_code == 200
    assert (await login(client, "ned@example.com")).status_code == 200


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
