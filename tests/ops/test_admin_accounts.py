"""Accounts edited in the admin go through the accounts service, like `cinema users` and the API.

Creating a user, setting a password or an email, moving a group and deleting
reach `cinema.accounts.management`; the admin's own change-password page
reaches `recovery.change_password`. The refusals (last ADMIN, weak password,
taken email...) are in test_admin_writes.py; here the effects of the
successful ones: a bcrypt hash that signs in, sessions that end, emails sent.
"""

from __future__ import annotations

from cinema.accounts.actor import GroupName
from cinema.accounts.tables import User, UserProfile
from cinema.commerce.tables import Order
from tests.conftest import STRONG_PASSWORD
from tests.ops.admin_helpers import csrf, group_id, open_admin_session

NEW_PASSWORD = "N3w!Passw0rd-x"


async def _api_login(client, email: str, password: str) -> int:
    response = await client.post("/accounts/login", json={"email": email, "password": password})
    return int(response.status_code)


async def test_an_account_created_in_the_admin_is_a_real_one(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    await open_admin_session(client, admin.id)

    created = await client.post(
        "/admin/api/tables/users/",
        json={
            "email": "  New.Moderator@Example.com ",
            "password": STRONG_PASSWORD,
            "group": await group_id(GroupName.MODERATOR),
            "active": True,
        },
        headers=csrf(client),
    )

    assert created.status_code == 201, created.text
    user_id = created.json()[0]["id"]
    row = (
        await User.select(User.email, User.username, User.admin, User.superuser)
        .where(User.id == user_id)
        .first()
    )
    assert row == {
        "email": "new.moderator@example.com",
        "username": "new.moderator@example.com",
        "admin": True,
        "superuser": False,
    }
    assert await UserProfile.count().where(UserProfile.user == user_id).run() == 1
    assert await _api_login(client, "new.moderator@example.com", STRONG_PASSWORD) == 200


async def test_a_password_set_in_the_admin_ends_the_users_sessions(client, make_user, outbox) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    user = await make_user(email="owner@example.com")
    await open_admin_session(client, admin.id)

    # The edit form posts the password field empty when it is left alone: nothing changes.
    untouched = await client.patch(
        f"/admin/api/tables/users/{user.id}/", json={"password": "", "active": True}, headers=csrf(client)
    )
    assert untouched.status_code == 200, untouched.text
    assert (await client.get("/accounts/me", headers=user.headers)).status_code == 200

    weak = await client.patch(
        f"/admin/api/tables/users/{user.id}/", json={"password": "weakling-secret"}, headers=csrf(client)
    )
    assert weak.status_code == 422
    assert weak.json()["code"] == "weak_password"
    assert "upper-case" in weak.json()["custom_form_error"]
    assert "weakling-secret" not in weak.text  # the broken rules are named, never the password

    response = await client.patch(
        f"/admin/api/tables/users/{user.id}/", json={"password": NEW_PASSWORD}, headers=csrf(client)
    )

    assert response.status_code == 200, response.text
    assert "password" not in response.json()
    assert (await client.get("/accounts/me", headers=user.headers)).status_code == 401
    refreshed = await client.post("/accounts/refresh", json={"refresh_token": user.refresh_token})
    assert refreshed.status_code == 401
    assert await _api_login(client, user.email, STRONG_PASSWORD) == 401
    assert await _api_login(client, user.email, NEW_PASSWORD) == 200
    assert [m["To"] for m in await outbox()] == ["owner@example.com"]


async def test_the_users_edit_form_saves_with_every_field_posted_back(client, make_user) -> None:
    """The form posts all columns (empty strings, flags, times) with the one changed: only that one counts."""
    admin = await make_user(group=GroupName.ADMIN)
    user = await make_user(email="form@example.com")
    await open_admin_session(client, admin.id)
    form = (await client.get(f"/admin/api/tables/users/{user.id}/")).json()
    assert "password" not in form
    form.pop("id")
    form.update(password="", active=False)

    response = await client.patch(f"/admin/api/tables/users/{user.id}/", json=form, headers=csrf(client))

    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert response.json()["deactivated_at"] is not None
    assert (await client.get("/accounts/me", headers=user.headers)).status_code == 401


async def test_an_email_changed_in_the_admin_is_the_new_sign_in(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    user = await make_user(email="old@example.com")
    await open_admin_session(client, admin.id)

    response = await client.patch(
        f"/admin/api/tables/users/{user.id}/", json={"email": " Renamed@Example.COM "}, headers=csrf(client)
    )

    assert response.status_code == 200, response.text
    assert (response.json()["email"], response.json()["username"]) == ("renamed@example.com",) * 2
    assert await _api_login(client, "renamed@example.com", STRONG_PASSWORD) == 200
    assert await _api_login(client, "old@example.com", STRONG_PASSWORD) == 401


async def test_deleting_in_the_admin_follows_the_accounts_rules(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    buyer = await make_user()
    leaving = await make_user()
    await Order(user=buyer.id, total_amount="1.00").save()
    await open_admin_session(client, admin.id)

    kept = await client.delete(f"/admin/api/tables/users/{buyer.id}/", headers=csrf(client))
    gone = await client.delete(f"/admin/api/tables/users/{leaving.id}/", headers=csrf(client))

    assert kept.status_code == 422
    assert kept.json()["code"] == "user_has_orders"
    assert gone.status_code == 204, gone.text
    assert await User.count().where(User.id.is_in([buyer.id, leaving.id])).run() == 1
    assert (await client.get("/accounts/me", headers=leaving.headers)).status_code == 401


async def test_the_admins_change_password_page_goes_through_the_accounts_service(client, make_user) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    await open_admin_session(client, moderator.id)

    cookies: list[str] = []

    async def change(current: str, new: str, confirm: str | None = None) -> tuple[int, str]:
        response = await client.post(
            "/admin/api/change-password/",
            json={"current_password": current, "new_password": new, "confirm_new_password": confirm or new},
            headers=csrf(client),
        )
        cookies[:] = response.headers.get_list("set-cookie")
        return response.status_code, response.json()["detail"]

    assert (await change("Wrong!Passw0rd", NEW_PASSWORD))[0] == 400
    status, detail = await change(STRONG_PASSWORD, "weakpassword")
    assert status == 422
    assert "upper-case" in detail  # the project's rules, not piccolo's six characters
    assert (await change(STRONG_PASSWORD, NEW_PASSWORD, "Other!Passw0rd"))[0] == 422
    assert await _api_login(client, moderator.email, STRONG_PASSWORD) == 200  # nothing changed so far

    assert (await change(STRONG_PASSWORD, NEW_PASSWORD))[0] == 200

    assert any(c.startswith('id=""') and "Max-Age=0" in c for c in cookies)  # signed out of the admin
    assert (await client.get("/accounts/me", headers=moderator.headers)).status_code == 401
    assert await _api_login(client, moderator.email, NEW_PASSWORD) == 200
