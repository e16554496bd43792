"""Staff changes to someone else's account: set a password, set an email (the services every door calls)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cinema.accounts import management
from cinema.accounts.actor import GroupName
from cinema.accounts.tables import ActivationToken, PasswordResetToken, User
from cinema.clock import utcnow
from cinema.errors import Conflict, NotFound, ValidationFailed
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
    assert missing.json()["code"] == "not_found"
    # Nothing changed, nobody was emailed, the user's session lives.
    assert (await login(client, user.email, STRONG_PASSWORD)).status_code == 200
    assert (await client.get("/accounts/me", headers=user.headers)).status_code == 200
    assert await outbox() == []
    with pytest.raises(ValidationFailed) as weak_error:
        await management.set_password(user.id, "short")
    assert weak_error.value.code == "weak_password"


async def test_set_email_normalises_keeps_sessions_and_drops_mailed_links(client, make_user) -> None:
    user = await make_user(email="old@example.com", active=False)
    later = utcnow() + timedelta(hours=1)
    await ActivationToken(user=user.id, token="a" * 64, expires_at=later).save()
    await PasswordResetToken(user=user.id, token="b" * 64, expires_at=later).save()
    await User.update({User.active: True}).where(User.id == user.id).run()

    changed = await management.set_email(user.id, "  New.Address@Example.COM ")

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
    assert (await management.set_email("new.address@example.com", "third@example.com")).id == user.id


async def test_set_email_refuses_bad_taken_and_unknown(make_user) -> None:
    user = await make_user(email="me@example.com")
    await make_user(email="taken@example.com")

    for bad in ("not-an-email", "a@b", "", "x" * 250 + "@example.com", "me@exa mple.com"):
        with pytest.raises(ValidationFailed) as invalid:
            await management.set_email(user.id, bad)
        assert invalid.value.code == "invalid_email"
    with pytest.raises(Conflict) as taken:
        await management.set_email(user.id, "TAKEN@example.com")
    assert taken.value.code == "email_taken"
    with pytest.raises(NotFound):
        await management.set_email(999999, "free@example.com")
    # Its own address again (any case) is no conflict.
    assert (await management.set_email(user.id, "ME@example.com")).email == "me@example.com"
    assert await User.select(User.email).where(User.id == user.id).first().run() == {
        "email": "me@example.com"
    }
