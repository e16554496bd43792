"""Staff grants and revocations, and what commerce records, at the service level (cinema.entitlements.service)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cinema.accounts.actor import GroupName
from cinema.accounts.errors import RoleRequired, UserNotFound
from cinema.catalog.errors import MovieNotFound
from cinema.clock import utcnow
from cinema.entitlements import access, service
from cinema.entitlements.errors import (
    AlreadyOwned,
    AlreadyRevoked,
    EntitlementNotFound,
    InvalidExpiry,
    PurchaseNotRevocable,
    ReasonRequired,
)
from cinema.entitlements.schemas import EntitlementStatus
from cinema.entitlements.tables import EntitlementSource
from cinema.pagination import PageParams
from tests.entitlements.conftest import actor, admin_actor, make_movie, pay


async def test_a_grant_records_who_why_and_until_when(make_user) -> None:
    admin = await admin_actor(make_user)
    viewer = await make_user(email="Viewer@Example.com")
    movie = await make_movie()

    forever = await service.grant(admin, "VIEWER@example.com", movie, reason="  Festival jury  ")

    assert (forever.user_id, forever.movie_id, forever.source) == (viewer.id, movie, EntitlementSource.GRANT)
    assert (forever.granted_by, forever.grant_reason, forever.expires_at) == (admin.id, "Festival jury", None)
    assert (forever.active, forever.status) == (True, EntitlementStatus.ACTIVE)
    assert forever.order_item_id is None
    assert forever.payment_id is None
    assert await access.may_watch(actor(viewer), movie) is True


async def test_only_admins_grant_and_revoke(make_user) -> None:
    movie = await make_movie()
    viewer = await make_user()
    admin = await admin_actor(make_user)
    done = await service.grant(admin, viewer.id, movie, reason="ok")
    for group in (GroupName.USER, GroupName.MODERATOR):
        someone = actor(await make_user(group=group))
        with pytest.raises(RoleRequired):
            await service.grant(someone, viewer.id, movie, reason="mine now")
        with pytest.raises(RoleRequired):
            await service.revoke(someone, done.id, reason="no")
        with pytest.raises(RoleRequired):
            await service.list_entitlements(someone, PageParams())
    assert (await service.get_entitlement(admin, done.id)).revoked_at is None


async def test_bad_grants_are_refused_and_write_nothing(make_user) -> None:
    admin = await admin_actor(make_user)
    viewer = await make_user()
    movie = await make_movie()
    now = utcnow()
    cases: list[tuple[object, int, str, datetime | None, type[Exception]]] = [
        (viewer.id, movie, "   ", None, ReasonRequired),
        (viewer.id, movie, "x" * 501, None, ReasonRequired),
        (viewer.id, movie, "bell\x07", None, ReasonRequired),
        (viewer.id, movie, "r", now, InvalidExpiry),
        (viewer.id, movie, "r", now - timedelta(days=1), InvalidExpiry),
        (999_999, movie, "r", None, UserNotFound),
        ("nobody@example.com", movie, "r", None, UserNotFound),
        (viewer.id, 999_999, "r", None, MovieNotFound),
        # Beyond PostgreSQL's integer: no such row, not a driver error.
        (2**40, movie, "r", None, UserNotFound),
        (viewer.id, 2**40, "r", None, MovieNotFound),
    ]
    for user, movie_id, reason, expires_at, error in cases:
        with pytest.raises(error) as caught:
            await service.grant(admin, user, movie_id, reason=reason, expires_at=expires_at, now=now)  # type: ignore[arg-type]
        assert caught.value.code == error.code  # type: ignore[attr-defined]
    assert (await service.list_entitlements(admin, PageParams())).total == 0


async def test_already_owned_for_good_is_409_but_timed_rights_add_up(make_user) -> None:
    admin = await admin_actor(make_user)
    buyer = await make_user()
    viewer = await make_user()
    bought, granted = await make_movie(), await make_movie(name="Ronin", year=1998)
    paid = await pay(buyer.id, bought)
    now = utcnow()

    with pytest.raises(AlreadyOwned) as caught:
        await service.grant(admin, buyer.id, bought, reason="again")
    assert caught.value.extra == {"entitlement_id": paid.entitlement_ids[0]}
    with pytest.raises(AlreadyOwned):
        await service.grant(admin, buyer.id, bought, reason="timed", expires_at=now + timedelta(days=1))

    week = await service.grant(admin, viewer.id, granted, reason="a week", expires_at=now + timedelta(days=7))
    day = await service.grant(admin, viewer.id, granted, reason="a day", expires_at=now + timedelta(days=1))
    forever = await service.grant(admin, viewer.id, granted, reason="for good")
    with pytest.raises(AlreadyOwned):
        await service.grant(admin, viewer.id, granted, reason="again")
    listed = await service.list_entitlements(admin, PageParams(), user=viewer.id)
    assert [e.id for e in listed.items] == [forever.id, day.id, week.id]


async def test_revocation_ends_access_once_and_purchases_end_by_refund(make_user) -> None:
    admin = await admin_actor(make_user)
    viewer = await make_user()
    movie, bought = await make_movie(), await make_movie(name="Ronin", year=1998)
    paid = await pay(viewer.id, bought)
    done = await service.grant(admin, viewer.id, movie, reason="trial")

    revoked = await service.revoke(admin, done.id, reason=" Trial over ")

    assert (revoked.revoke_reason, revoked.revoked_by, revoked.active) == ("Trial over", admin.id, False)
    assert revoked.status is EntitlementStatus.REVOKED
    assert revoked.revoked_at is not None
    assert await access.may_watch(actor(viewer), movie) is False
    with pytest.raises(AlreadyRevoked):
        await service.revoke(admin, done.id, reason="again")
    with pytest.raises(PurchaseNotRevocable):
        await service.revoke(admin, paid.entitlement_ids[0], reason="fraud")
    for missing in (999_999, 2**40, 0):
        with pytest.raises(EntitlementNotFound):
            await service.revoke(admin, missing, reason="r")
        with pytest.raises(EntitlementNotFound):
            await service.get_entitlement(admin, missing)
    with pytest.raises(ReasonRequired):
        await service.revoke(admin, paid.entitlement_ids[0], reason="")
    assert await access.may_watch(actor(viewer), bought) is True
    # A revoked grant no longer counts as owned: a new one may be made.
    again = await service.grant(admin, viewer.id, movie, reason="trial extended")
    assert again.active is True


async def test_the_list_filters_by_user_movie_source_and_liveness(make_user) -> None:
    admin = await admin_actor(make_user)
    ann, bob = await make_user(), await make_user()
    heat, ronin = await make_movie(), await make_movie(name="Ronin", year=1998)
    now = utcnow()
    bought = (await pay(ann.id, heat, at=now)).entitlement_ids[0]
    timed = await service.grant(
        admin, ann.id, ronin, reason="r", expires_at=now + timedelta(hours=1), now=now
    )
    bobs = await service.grant(admin, bob.id, heat, reason="r", now=now)
    gone = await service.grant(admin, bob.id, ronin, reason="r", now=now)
    await service.revoke(admin, gone.id, reason="no", now=now)

    async def ids(**filters: object) -> list[int]:
        page = await service.list_entitlements(admin, PageParams(), **filters)  # type: ignore[arg-type]
        return [e.id for e in page.items]

    assert await ids() == [gone.id, bobs.id, timed.id, bought]
    assert await ids(user=ann.id) == [timed.id, bought]
    assert await ids(user=bob.email.upper()) == [gone.id, bobs.id]
    assert await ids(movie_id=heat) == [bobs.id, bought]
    assert await ids(source=EntitlementSource.PURCHASE) == [bought]
    assert await ids(active=True) == [bobs.id, timed.id, bought]
    assert await ids(active=False) == [gone.id]
    later = now + timedelta(hours=2)
    assert await ids(active=False, now=later) == [gone.id, timed.id]
    expired = (await service.list_entitlements(admin, PageParams(), user=ann.id, now=later)).items[0]
    assert expired.status is EntitlementStatus.EXPIRED

    page = await service.list_entitlements(admin, PageParams(page=2, per_page=3))
    assert ([e.id for e in page.items], page.total, page.pages) == ([bought], 4, 2)
    with pytest.raises(UserNotFound):
        await service.list_entitlements(admin, PageParams(), user="ghost@example.com")


async def test_a_purchase_supersedes_a_running_rental(make_user) -> None:
    viewer = await make_user()
    movie = await make_movie()
    rental = await service.grant_rental(viewer.id, movie, order_item_id=None, payment_id=None)
    await service.start_rental(viewer.id, movie)

    paid = await pay(viewer.id, movie)

    admin = await admin_actor(make_user)
    rows = {e.id: e for e in (await service.list_entitlements(admin, PageParams(), user=viewer.id)).items}
    assert rows[rental].revoke_reason == service.SUPERSEDED_REASON
    assert rows[paid.entitlement_ids[0]].active is True
    assert rows[paid.entitlement_ids[0]].payment_id == paid.payment_id
    # Renting what one owns is refused.
    with pytest.raises(AlreadyOwned):
        await service.grant_rental(viewer.id, movie, order_item_id=None, payment_id=None)


async def test_a_refund_revokes_exactly_the_refunded_items(make_user) -> None:
    admin = await admin_actor(make_user)
    viewer = await make_user()
    heat, ronin = await make_movie(), await make_movie(name="Ronin", year=1998)
    paid = await pay(viewer.id, heat, ronin)

    assert await service.revoke_for_refund([paid.order_item_ids[1]]) == [ronin]
    assert await service.revoke_for_refund([paid.order_item_ids[1]]) == []  # once
    assert await access.may_watch(actor(viewer), heat) is True
    assert await access.may_watch(actor(viewer), ronin) is False
    [ended] = (await service.list_entitlements(admin, PageParams(), movie_id=ronin)).items
    assert (ended.revoke_reason, ended.revoked_by, ended.order_item_id) == (
        service.REFUND_REASON,
        None,
        paid.order_item_ids[1],
    )
