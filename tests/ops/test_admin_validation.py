"""Piccolo Admin edits follow the same rules as the API: account deactivation, catalog bounds."""

from __future__ import annotations

from cinema.accounts.tables import ActivationToken, GroupName, User
from tests.ops.test_admin import admin_session, csrf


async def test_deactivation_in_the_admin_cannot_be_undone_by_an_activation_email(
    client, make_user, outbox
) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    victim = await make_user(email="ui-deactivated@example.com")
    assert (await admin_session(client, admin.email, admin.password)).status_code == 200

    response = await client.patch(
        f"/admin/api/tables/users/{victim.id}/", json={"active": False}, headers=csrf(client)
    )
    assert response.status_code == 200, response.text
    row = await User.select(User.active.as_alias("active"), User.deactivated_at).where(User.id == victim.id).first().run()
    assert row is not None
    assert row["active"] is False
    assert row["deactivated_at"] is not None

    resend = await client.post("/accounts/activation/resend", json={"email": victim.email})
    assert resend.status_code == 202
    assert await outbox() == []  # no activation email for a staff-deactivated account
    assert await ActivationToken.count().where(ActivationToken.user == victim.id).run() == 0

    # Saving the form again with the account still inactive keeps the staff mark.
    again = await client.patch(
        f"/admin/api/tables/users/{victim.id}/",
        json={"is_active": False, "deactivated_at": None},
        headers=csrf(client),
    )
    assert again.status_code == 200, again.text
    row = await User.select(User.deactivated_at).where(User.id == victim.id).first().run()
    assert row is not None
    assert row["deactivated_at"] is not None

    # Staff activation in the admin clears it: the user can sign in again.
    back = await client.patch(
        f"/admin/api/tables/users/{victim.id}/", json={"active": True}, headers=csrf(client)
    )
    assert back.status_code == 200, back.text
    row = await User.select(User.active.as_alias("active"), User.deactivated_at).where(User.id == victim.id).first().run()
    assert row == {"active": True, "deactivated_at": None}
    signed_in = await client.post(
        "/accounts/login", json={"email": victim.email, "password": victim.password}
    )
    assert signed_in.status_code == 200
