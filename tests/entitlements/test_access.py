"""The one "may watch" rule (cinema.entitlements.access), at the service level."""

from __future__ import annotations

import pytest

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.commerce.tables import Purchase
from cinema.entitlements import access
from tests.media.conftest import buy, make_movie


def _actor(user_id: int, group: GroupName) -> CurrentUser:
    return CurrentUser(id=user_id, email="x@example.com", group=group, session_id=1)


async def test_buyers_and_staff_may_watch_others_not(make_user) -> None:
    buyer = await make_user()
    other = await make_user()
    movie = await make_movie()
    second = await make_movie(name="Ronin", year=1998)
    await buy(buyer.id, movie)

    assert await access.may_watch(_actor(buyer.id, GroupName.USER), movie) is True
    assert await access.may_watch(_actor(buyer.id, GroupName.USER), second) is False
    assert await access.may_watch(_actor(other.id, GroupName.USER), movie) is False
    for group in (GroupName.MODERATOR, GroupName.ADMIN):
        assert await access.may_watch(_actor(other.id, group), second) is True
    with pytest.raises(access.NotEntitled):
        await access.require_watch(_actor(other.id, GroupName.USER), movie)

    # A refund deletes the purchase row: the right to watch ends with it.
    await Purchase.delete().where(Purchase.user == buyer.id).run()
    assert await access.may_watch(_actor(buyer.id, GroupName.USER), movie) is False


def test_the_rule_given_ownership() -> None:
    assert access.entitled(_actor(1, GroupName.USER), True) is True
    assert access.entitled(_actor(1, GroupName.USER), 0) is False
    assert access.entitled(_actor(1, GroupName.MODERATOR), False) is True
