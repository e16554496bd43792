"""`cinema.accounts.registration`, called directly: sign-up, activation and its resend."""

from __future__ import annotations

import pytest

from cinema.accounts import management, registration
from cinema.accounts.actor import OPERATOR, GroupName
from cinema.accounts.errors import EmailTaken, InvalidToken, WeakPassword
from cinema.accounts.tables import ActivationToken, User, UserProfile
from tests.accounts.conftest import activation_token
from tests.conftest import STRONG_PASSWORD


async def test_register_makes_an_inactive_user_with_a_profile_and_mails_the_link(outbox) -> None:
    user = await registration.register("New.Comer@Example.com", STRONG_PASSWORD)

    assert (user.email, user.group, user.is_active) == ("new.comer@example.com", GroupName.USER, False)
    row = await User.select(User.admin, User.superuser).where(User.id == user.id).first().run()
    assert row is not None
    assert (bool(row["admin"]), bool(row["superuser"])) == (False, False)
    assert await UserProfile.count().where(UserProfile.user == user.id).run() == 1
    assert await ActivationToken.count().where(ActivationToken.user == user.id).run() == 1
    [mail] = await outbox()
    assert (mail["To"], mail["Subject"]) == ("new.comer@example.com", "Activate your Cinema account")


async def test_register_refuses_a_taken_email_in_any_case_and_a_weak_password(outbox) -> None:
    await registration.register("taken@example.com", STRONG_PASSWORD)

    with pytest.raises(EmailTaken) as taken:
        await registration.register("TAKEN@example.com", STRONG_PASSWORD)
    assert (taken.value.status_code, taken.value.code) == (409, "email_taken")
    with pytest.raises(WeakPassword) as weak:
        await registration.register("weak@example.com", "alllowercase")
    assert weak.value.extra == {"problems": ["needs an upper-case letter", "needs a digit", "needs a symbol"]}

    assert await User.count().run() == 1
    assert len(await outbox()) == 1  # only the first sign-up was mailed


async def test_activation_uses_the_token_once(outbox) -> None:
    user = await registration.register("ana@example.com", STRONG_PASSWORD)
    [mail] = await outbox()
    token = activation_token(mail)

    with pytest.raises(InvalidToken):
        await registration.activate("someone.else@example.com", token)
    activated = await registration.activate("ANA@example.com", token)

    assert activated.id == user.id
    assert activated.is_active is True
    with pytest.raises(InvalidToken) as used:
        await registration.activate("ana@example.com", token)
    assert (used.value.status_code, used.value.code) == (400, "invalid_token")


async def test_a_resend_replaces_the_token_and_staff_deactivation_stops_self_activation(outbox) -> None:
    user = await registration.register("ben@example.com", STRONG_PASSWORD)
    [first] = await outbox()

    await registration.resend_activation("ben@example.com")
    await registration.resend_activation("nobody@example.com")  # says nothing, sends nothing
    mails = await outbox()

    assert [m["To"] for m in mails] == ["ben@example.com", "ben@example.com"]
    with pytest.raises(InvalidToken):  # the first link was replaced
        await registration.activate("ben@example.com", activation_token(first))
    second = activation_token(mails[1])

    await management.set_active(OPERATOR, user.id, False)  # staff deactivation drops the pending link

    with pytest.raises(InvalidToken):
        await registration.activate("ben@example.com", second)
    await registration.resend_activation("ben@example.com")  # only staff may activate it now
    assert len(await outbox()) == 2
    assert await ActivationToken.count().run() == 0
