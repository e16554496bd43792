"""`cinema.accounts.management`, called directly: the staff operations every door calls.

Who may (ADMIN, or the CLI's operator), the last-ADMIN rule, group flags,
(de)activation, passwords and emails set by staff. The HTTP routes are in
test_user_management_api.py; deletion (with the counters it recounts) in
test_user_deletion.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from cinema.accounts import management, sessions
from cinema.accounts.actor import OPERATOR, CurrentUser, GroupName
from cinema.accounts.errors import (
    EmailTaken,
    InvalidEmail,
    LastAdmin,
    RoleRequired,
    UserNotFound,
    WeakPassword,
)
from cinema.accounts.tables import ActivationToken, PasswordResetToken, RefreshToken, User
from cinema.clock import utcnow
from cinema.pagination import PageParams
from tests.accounts.conftest import login
from tests.conftest import STRONG_PASSWORD

NEW_PASSWORD = "N3w!Passw0rd-2"


async def test_admin_sets_a_password_through_the_api(client, make_user, outbox, monkeypatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "1")
    admin = await make_user(group=GroupName.ADMIN)
    user = await make_user(email="sam@example.com")
    assert (await login(client, user.email, "Wr0ng!Password")).status_code == 401  # now locked
    await PasswordResetToken(user=user.id, token="r" * 64, expires_at=utcnow() + timedelta(hours=1)).save()

    response = await client.put(
        f"/accounts/users/{user.id}/password", headers=admin.headers, json={"password": NEW_PASSWORD}
    )

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert (await login(client, user.email, STRONG_PASSWORD)).status_code == 401
    assert (await login(client, user.email, NEW_PASSWORD)).status_code == 200  # lockout lifted
    assert await PasswordResetToken.count().run() == 0  # a pending reset link would undo it
    [mail] = await outbox()
    assert (mail["To"], mail["Subject"]) == ("sam@example.com", "Your Cinema password was changed")


async def test_setting_a_password_checks_rights_rules_and_the_user(client, make_user, outbox) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    moderator = await make_user(group=GroupName.MODERATOR)
    user = await make_user()
    url = f"/accounts/users/{user.id}/password"

    assert (
        await client.put(url, headers=moderator.headers, json={"password": NEW_PASSWORD})
    ).status_code == 403
    assert (await client.put(url, json={"password": NEW_PASSWORD})).status_code == 401
    weak = await client.put(url, headers=admin.headers, json={"password": "weakpass"})
    assert weak.status_code == 422
    assert "weakpass" not in weak.text  # never echoed back
    for body in ({}, {"password": None}, {"password": 12345678}):
        assert (await client.put(url, headers=admin.headers, json=body)).status_code == 422
    missing = await client.put(
        "/accounts/users/999999/password", headers=admin.headers, json={"password": NEW_PASSWORD}
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "user_not_found"
    # Nothing changed, nobody was emailed, the user's session lives.
    assert (await login(client, user.email, STRONG_PASSWORD)).status_code == 200
    assert (await client.get("/accounts/me", headers=user.headers)).status_code == 200
    assert await outbox() == []
    with pytest.raises(WeakPassword) as weak_error:
        await management.set_password(OPERATOR, user.id, "short")
    assert weak_error.value.code == "weak_password"
    assert weak_error.value.extra["problems"] == [
        "must be 8 to 64 characters long",
        "needs an upper-case letter",
        "needs a digit",
        "needs a symbol",
    ]
    with pytest.raises(UserNotFound):
        await management.set_password(OPERATOR, 999999, NEW_PASSWORD)


async def test_set_email_normalises_keeps_sessions_and_drops_mailed_links(client, make_user) -> None:
    user = await make_user(email="old@example.com", active=False)
    later = utcnow() + timedelta(hours=1)
    await ActivationToken(user=user.id, token="a" * 64, expires_at=later).save()
    await PasswordResetToken(user=user.id, token="b" * 64, expires_at=later).save()
    await User.update({User.active: True}).where(User.id == user.id).run()

    changed = await management.set_email(OPERATOR, user.id, "  New.Address@Example.COM ")

    assert changed.email == "new.address@example.com"
    row = await User.select(User.email, User.username).where(User.id == user.id).first().run()
    assert row == {"email": "new.address@example.com", "username": "new.address@example.com"}
    assert await ActivationToken.count().run() == 0
    assert await PasswordResetToken.count().run() == 0
    assert (await client.get("/accounts/me", headers=user.headers)).json()[
        "email"
    ] == "new.address@example.com"
    assert (await login(client, "new.address@example.com")).status_code == 200
    assert (await login(client, "old@example.com")).status_code == 401
    # By email too, as the CLI names users.
    assert (
        await management.set_email(OPERATOR, "new.address@example.com", "third@example.com")
    ).id == user.id


async def test_set_email_refuses_bad_taken_and_unknown(make_user) -> None:
    user = await make_user(email="me@example.com")
    await make_user(email="taken@example.com")

    for bad in ("not-an-email", "a@b", "", "x" * 250 + "@example.com", "me@exa mple.com"):
        with pytest.raises(InvalidEmail) as invalid:
            await management.set_email(OPERATOR, user.id, bad)
        assert invalid.value.code == "invalid_email"
    with pytest.raises(EmailTaken) as taken:
        await management.set_email(OPERATOR, user.id, "TAKEN@example.com")
    assert taken.value.code == "email_taken"
    with pytest.raises(UserNotFound):
        await management.set_email(OPERATOR, 999999, "free@example.com")
    # Its own address again (any case) is no conflict.
    assert (await management.set_email(OPERATOR, user.id, "ME@example.com")).email == "me@example.com"
    assert await User.select(User.email).where(User.id == user.id).first().run() == {
        "email": "me@example.com"
    }


def _staff(user_id: int, group: GroupName) -> CurrentUser:
    return CurrentUser(id=user_id, email=f"{group.value.lower()}@example.com", group=group, session_id="")


async def test_only_an_admin_or_the_operator_manages_accounts(make_user) -> None:
    target = await make_user(email="target@example.com")
    moderator = _staff((await make_user(group=GroupName.MODERATOR)).id, GroupName.MODERATOR)
    calls = [
        lambda actor: management.list_users(actor, PageParams(1, 20)),
        lambda actor: management.get_user(actor, target.id),
        lambda actor: management.set_group(actor, target.id, GroupName.ADMIN),
        lambda actor: management.set_active(actor, target.id, False),
        lambda actor: management.set_password(actor, target.id, NEW_PASSWORD),
        lambda actor: management.set_email(actor, target.id, "taken-over@example.com"),
        lambda actor: management.create_user(actor, "new@example.com", NEW_PASSWORD, active=True),
        lambda actor: management.delete_user(actor, target.id),
    ]
    for call in calls:
        with pytest.raises(RoleRequired) as refused:
            await call(moderator)
        assert (refused.value.status_code, refused.value.code) == (403, "permission_denied")
        assert refused.value.extra == {"required_group": "ADMIN"}
    row = (
        await User.select(User.email, User.active.as_alias("active"), User.group.name.as_alias("group"))
        .where(User.id == target.id)
        .first()
        .run()
    )
    assert row is not None
    assert (row["email"], bool(row["active"]), row["group"]) == ("target@example.com", True, "USER")
    assert await User.count().where(User.email == "new@example.com").run() == 0

    shown = await management.get_user(OPERATOR, "TARGET@example.com")
    assert (shown.id, shown.email) == (target.id, "target@example.com")
    page = await management.list_users(_staff(target.id, GroupName.ADMIN), PageParams(1, 20))
    assert page.total == 2


async def test_a_group_change_moves_the_admin_flags_and_ends_sessions_only_when_it_changes(make_user) -> None:
    user = await make_user(email="rising@example.com")

    promoted = await management.set_group(OPERATOR, user.id, GroupName.MODERATOR)

    assert promoted.group is GroupName.MODERATOR
    assert await _flags(user.id) == (True, False)
    assert await RefreshToken.count().where(RefreshToken.user == user.id).run() == 0
    await sessions.open_session(user.id)
    await management.set_group(OPERATOR, user.id, GroupName.MODERATOR)  # no change: the session stays
    assert await RefreshToken.count().where(RefreshToken.user == user.id).run() == 1
    await management.set_group(OPERATOR, "rising@example.com", GroupName.ADMIN)
    assert await _flags(user.id) == (True, True)
    assert await RefreshToken.count().where(RefreshToken.user == user.id).run() == 0
    await make_user(group=GroupName.ADMIN)  # not the last ADMIN any more
    await management.set_group(OPERATOR, user.id, GroupName.USER)
    assert await _flags(user.id) == (False, False)


async def _flags(user_id: int) -> tuple[bool, bool]:
    """`users.admin`, `users.superuser` (what Piccolo Admin checks)."""
    row = await User.select(User.admin, User.superuser).where(User.id == user_id).first().run()
    assert row is not None
    return bool(row["admin"]), bool(row["superuser"])


async def test_the_last_active_admin_is_kept(make_user) -> None:
    admin = await make_user(email="only-admin@example.com", group=GroupName.ADMIN)
    me = _staff(admin.id, GroupName.ADMIN)

    for remove in (
        management.set_group(me, admin.id, GroupName.MODERATOR),
        management.set_active(me, admin.id, False),
        management.delete_user(me, admin.id),
    ):
        with pytest.raises(LastAdmin) as refused:
            await remove
        assert (refused.value.status_code, refused.value.code) == (409, "last_admin")
    row = (
        await User.select(User.active.as_alias("active"), User.group.name.as_alias("group"))
        .where(User.id == admin.id)
        .first()
        .run()
    )
    assert row is not None
    assert (bool(row["active"]), row["group"]) == (True, "ADMIN")

    # An inactive ADMIN does not count as a second one.
    dormant = await make_user(group=GroupName.ADMIN, active=False)
    with pytest.raises(LastAdmin):
        await management.set_group(me, admin.id, GroupName.USER)
    await management.set_active(OPERATOR, dormant.id, True)
    assert (await management.set_group(me, admin.id, GroupName.USER)).group is GroupName.USER


async def test_deactivation_is_staff_only_to_undo_and_drops_pending_links(make_user) -> None:
    user = await make_user(email="paused@example.com")
    later = utcnow() + timedelta(hours=1)
    await ActivationToken(user=user.id, token="c" * 64, expires_at=later).save()

    paused = await management.set_active(OPERATOR, user.id, False)

    assert paused.is_active is False
    row = (
        await User.select(User.active.as_alias("active"), User.deactivated_at)
        .where(User.id == user.id)
        .first()
        .run()
    )
    assert row is not None
    assert not row["active"]
    assert row["deactivated_at"] is not None
    assert await ActivationToken.count().run() == 0
    assert await RefreshToken.count().where(RefreshToken.user == user.id).run() == 0

    resumed = await management.set_active(OPERATOR, "paused@example.com", True)

    assert resumed.is_active is True
    row = (
        await User.select(User.active.as_alias("active"), User.deactivated_at)
        .where(User.id == user.id)
        .first()
        .run()
    )
    assert row is not None
    assert (bool(row["active"]), row["deactivated_at"]) == (True, None)


async def test_create_user_is_active_or_not_without_an_activation_email(outbox) -> None:
    made = await management.create_user(
        OPERATOR, "Made@Example.com", NEW_PASSWORD, GroupName.MODERATOR, active=True
    )

    assert (made.email, made.group, made.is_active) == ("made@example.com", GroupName.MODERATOR, True)
    assert await outbox() == []
    with pytest.raises(EmailTaken):
        await management.create_user(OPERATOR, "MADE@example.com", NEW_PASSWORD, active=False)
    with pytest.raises(WeakPassword):
        await management.create_user(OPERATOR, "weak@example.com", "password", active=False)
    with pytest.raises(InvalidEmail):
        await management.create_user(OPERATOR, "no-at-sign", NEW_PASSWORD, active=False)
    assert await User.count().run() == 1
