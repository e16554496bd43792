"""The one "may watch" rule (cinema.entitlements.access), at the service level, over time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.clock import utcnow
from cinema.db import fetch
from cinema.entitlements import access, service
from tests.entitlements.conftest import actor, admin_actor, make_movie, pay


async def test_buyers_and_staff_may_watch_others_not(make_user) -> None:
    buyer = await make_user()
    other = await make_user()
    movie = await make_movie()
    second = await make_movie(name="Ronin", year=1998)
    paid = await pay(buyer.id, movie)

    assert await access.may_watch(actor(buyer), movie) is True
    assert await access.may_watch(actor(buyer), second) is False
    assert await access.may_watch(actor(other), movie) is False
    for group in (GroupName.MODERATOR, GroupName.ADMIN):
        assert await access.may_watch(actor(other.id, group), second) is True
    with pytest.raises(access.NotEntitled):
        await access.require_watch(actor(other), movie)

    # A refund revokes the order items' rows: the right to watch ends with it.
    assert await service.revoke_for_refund(paid.order_item_ids) == [movie]
    assert await access.may_watch(actor(buyer), movie) is False


def test_the_rule_given_ownership() -> None:
    assert access.entitled(actor(1), True) is True
    assert access.entitled(actor(1), 0) is False
    assert access.entitled(actor(1, GroupName.MODERATOR), False) is True


async def test_a_timed_grant_gives_access_inside_its_window_only(make_user) -> None:
    admin = await admin_actor(make_user)
    viewer = await make_user()
    movie = await make_movie()
    now = utcnow()
    done = await service.grant(
        admin, viewer.id, movie, reason="Press preview", expires_at=now + timedelta(days=2), now=now
    )

    assert await access.may_watch(actor(viewer), movie, now - timedelta(seconds=1)) is False  # not started
    assert await access.may_watch(actor(viewer), movie, now) is True
    assert (
        await access.may_watch(actor(viewer), movie, now + timedelta(days=2)) is True
    )  # the end is included
    assert await access.may_watch(actor(viewer), movie, now + timedelta(days=2, seconds=1)) is False
    assert done.expires_at == now + timedelta(days=2)


async def test_a_rental_runs_from_its_first_playback(make_user, monkeypatch) -> None:
    monkeypatch.setenv("RENTAL_START_DAYS", "30")
    monkeypatch.setenv("RENTAL_HOURS", "48")
    renter = await make_user()
    movie = await make_movie()
    bought = utcnow()
    await service.grant_rental(renter.id, movie, order_item_id=None, payment_id=None, now=bought)
    me = actor(renter)

    # Not started: watchable until the start deadline, and not after it.
    assert await access.may_watch(me, movie, bought + timedelta(days=29)) is True
    assert await access.may_watch(me, movie, bought + timedelta(days=30, seconds=1)) is False

    started = bought + timedelta(days=10)
    assert await service.start_rental(renter.id, movie, started) == started + timedelta(hours=48)
    # A second playback does not move the end.
    assert await service.start_rental(renter.id, movie, started + timedelta(hours=1)) is None
    assert await access.may_watch(me, movie, started + timedelta(hours=47)) is True
    assert await access.may_watch(me, movie, started + timedelta(hours=48, seconds=1)) is False
    # Started late in its window, a rental still runs its full hours past the start deadline.
    late = await make_movie(name="Ronin", year=1998)
    await service.grant_rental(renter.id, late, order_item_id=None, payment_id=None, now=bought)
    await service.start_rental(renter.id, late, bought + timedelta(days=29, hours=23))
    assert await access.may_watch(me, late, bought + timedelta(days=31)) is True


async def test_an_open_dispute_suspends_and_winning_restores(make_user) -> None:
    buyer = await make_user()
    movie = await make_movie()
    paid = await pay(buyer.id, movie)
    me = actor(buyer)

    assert await service.suspend_for_dispute(paid.payment_id) == 1
    assert await service.suspend_for_dispute(paid.payment_id) == 0  # applied once
    assert await access.may_watch(me, movie) is False
    assert await service.restore_after_dispute(paid.payment_id) == 1
    assert await access.may_watch(me, movie) is True

    await service.suspend_for_dispute(paid.payment_id)
    assert await service.revoke_for_lost_dispute(paid.payment_id) == 1
    assert await service.restore_after_dispute(paid.payment_id) == 0  # lost: stays revoked
    assert await access.may_watch(me, movie) is False
    [row] = await fetch("SELECT revoke_reason, suspended_at FROM entitlements WHERE user_id = {}", buyer.id)
    assert row["revoke_reason"] == service.CHARGEBACK_REASON
    assert row["suspended_at"] is not None


async def test_the_sql_form_decides_like_the_function(make_user) -> None:
    """`may_watch_sql` (one statement over many movies) gives the answers `may_watch` gives."""
    admin = await admin_actor(make_user)
    viewer = await make_user()
    moderator = await make_user(group=GroupName.MODERATOR)
    owned, timed, ended, revoked, none = [await make_movie(name=f"M{i}", year=2000 + i) for i in range(5)]
    now = utcnow()
    await pay(viewer.id, owned)
    await service.grant(admin, viewer.id, timed, reason="r", expires_at=now + timedelta(hours=1), now=now)
    await service.grant(admin, viewer.id, ended, reason="r", expires_at=now + timedelta(seconds=1), now=now)
    gone = await service.grant(admin, viewer.id, revoked, reason="r", now=now)
    await service.revoke(admin, gone.id, reason="mistake", now=now)
    later = now + timedelta(minutes=1)

    def statement(who: CurrentUser) -> str:
        rule = access.may_watch_sql(who, "{}", "m.id", "{}")
        return f"SELECT m.id, {rule} AS ok FROM movies m ORDER BY m.id"

    for who in (actor(viewer), actor(moderator)):
        rows = await fetch(statement(who), who.id, later)
        got = {int(r["id"]): bool(r["ok"]) for r in rows}
        expected = {m: await access.may_watch(who, m, later) for m in (owned, timed, ended, revoked, none)}
        assert got == expected
    assert expected == {owned: True, timed: True, ended: True, revoked: True, none: True}  # the moderator
    rows = await fetch(statement(actor(viewer)), viewer.id, later)
    assert [bool(r["ok"]) for r in rows] == [True, True, False, False, False]
