"""Rentals end to end over HTTP on the sandbox gateway, and the rental rules at the service level.

The clock is moved (`movable_clock`, tests/clock_support.py) to make a rental
run out. Both engines: on PostgreSQL the concurrent calls run on separate
pooled connections at once; on SQLite each write transaction waits for the
one before.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from cinema.catalog.tables import Movie
from cinema.clock import utcnow
from cinema.commerce.tables import Purchase
from cinema.db import fetch
from cinema.entitlements import access, service
from cinema.entitlements.errors import AlreadyOwned
from cinema.entitlements.service import PaidItem
from cinema.media.storage import new_key
from cinema.media.tables import AssetStatus, MediaAsset, MediaKind
from cinema.sql import as_datetime
from tests.entitlements.conftest import actor, admin_actor, make_movie, pay


async def rentable(
    name: str = "Heat",
    *,
    price: str = "9.99",
    rental_price: str | None = "2.99",
    start_days: int | None = None,
    hours: int | None = None,
    year: int = 1995,
) -> int:
    """A movie with a ready feature, offered for rent at `rental_price` (None: not offered)."""
    movie = await make_movie(name=name, price=price, year=year)
    await Movie.update(
        {
            Movie.rental_price: None if rental_price is None else Decimal(rental_price),
            Movie.rental_start_days: start_days,
            Movie.rental_hours: hours,
        }
    ).where(Movie.id == movie)
    await MediaAsset(
        movie=movie,
        kind=MediaKind.FEATURE,
        status=AssetStatus.READY,
        storage_key=new_key(movie, True, "webm"),
        content_type="video/webm",
        size_bytes=1000,
        duration_seconds=600.0,
    ).save()
    return movie


async def checkout(client: Any, user: Any, movie: int, offer: str) -> dict[str, Any]:
    """Cart, order, payment and the sandbox success, each answer checked; returns the payment."""
    added = await client.post("/cart/items", json={"movie_id": movie, "offer": offer}, headers=user.headers)
    assert added.status_code == 201, added.text
    assert added.json()["offer"] == offer
    made = await client.post("/orders", headers=user.headers)
    assert made.status_code == 201, made.text
    order = made.json()["order"]
    [item] = order["items"]
    assert item["offer"] == offer
    created = await client.post(f"/payments/{order['id']}", headers=user.headers)
    assert created.status_code == 201, created.text
    paid = await client.post(
        f"/payments/{created.json()['payment_id']}/sandbox/succeed", headers=user.headers
    )
    assert paid.json()["status"] == "successful", paid.text
    payment: dict[str, Any] = paid.json()
    return payment


async def rows_of(user_id: int, movie: int) -> list[Any]:
    return await fetch(
        "SELECT id, source, order_item_id, payment_id, expires_at, start_by, rental_hours, revoked_at, "
        "revoke_reason FROM entitlements WHERE user_id = {} AND movie_id = {} ORDER BY id",
        user_id,
        movie,
    )


async def play(client: Any, user: Any, movie: int) -> Any:
    return await client.get(f"/movies/{movie}/playback", headers=user.headers)


async def test_rent_start_lose_access_after_48_hours_rent_again_then_buy(
    client, make_user, movable_clock, monkeypatch
) -> None:
    monkeypatch.setenv("RENTAL_START_DAYS", "30")
    monkeypatch.setenv("RENTAL_HOURS", "48")
    renter = await make_user()
    movie = await rentable(price="9.99", rental_price="2.99")

    payment = await checkout(client, renter, movie, "rent")
    assert (payment["amount"], [i["offer"] for i in payment["items"]]) == ("2.99", ["rent"])
    paid_at = movable_clock.now()
    [rental] = await rows_of(renter.id, movie)
    assert (rental["source"], rental["payment_id"], rental["expires_at"], rental["rental_hours"]) == (
        "rental",
        payment["id"],
        None,
        48,
    )
    assert abs(as_datetime(rental["start_by"]) - (paid_at + timedelta(days=30))) < timedelta(seconds=5)
    detail = (await client.get(f"/movies/{movie}", headers=renter.headers)).json()
    assert (detail["access"]["kind"], detail["access"]["started"]) == ("rental", False)
    assert detail["rental_price"] == "2.99"

    # The first playback URL starts the clock: 48 hours from now.
    movable_clock.advance(days=3)
    first = await play(client, renter, movie)
    assert first.status_code == 200, first.text
    started = movable_clock.now()
    [rental] = await rows_of(renter.id, movie)
    ends = as_datetime(rental["expires_at"])
    assert abs(ends - (started + timedelta(hours=48))) < timedelta(seconds=5)
    access_now = (await client.get(f"/movies/{movie}", headers=renter.headers)).json()["access"]
    assert (access_now["started"], access_now["start_by"]) == (True, None)
    assert 47 * 3600 < access_now["seconds_left"] <= 48 * 3600

    # Later playbacks do not move the end.
    movable_clock.advance(hours=47)
    assert (await play(client, renter, movie)).status_code == 200
    assert as_datetime((await rows_of(renter.id, movie))[0]["expires_at"]) == ends

    # 48 hours after the start the rental is over.
    movable_clock.advance(hours=1, seconds=5)
    refused = await play(client, renter, movie)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_entitled")
    assert (await client.get(f"/movies/{movie}", headers=renter.headers)).json()["access"] is None
    assert (await client.get("/library", headers=renter.headers)).json()["total"] == 0

    # Rented again: a new rental, started by its own first playback.
    again = await checkout(client, renter, movie, "rent")
    assert (await play(client, renter, movie)).status_code == 200
    old, new = await rows_of(renter.id, movie)
    assert (new["source"], new["payment_id"], new["revoked_at"]) == ("rental", again["id"], None)
    assert new["expires_at"] is not None
    assert old["id"] != new["id"]

    # Bought while the second rental runs: the purchase supersedes it.
    bought = await checkout(client, renter, movie, "buy")
    assert bought["amount"] == "9.99"
    rows = await rows_of(renter.id, movie)
    assert [(r["source"], r["revoke_reason"]) for r in rows] == [
        ("rental", None),
        ("rental", service.SUPERSEDED_REASON),
        ("purchase", None),
    ]
    detail = (await client.get(f"/movies/{movie}", headers=renter.headers)).json()
    assert (detail["access"]["kind"], detail["access"]["expires_at"]) == ("purchase", None)
    movable_clock.advance(days=5)  # a rental would have ended; the session (14 days) lives on
    assert (await play(client, renter, movie)).status_code == 200
    purchases = (await client.get("/purchases", headers=renter.headers)).json()
    assert [m["id"] for m in purchases["items"]] == [movie]

    # Owned for good: renting is `already_owned`, buying `already_purchased`.
    rent = await client.post("/cart/items", json={"movie_id": movie, "offer": "rent"}, headers=renter.headers)
    assert (rent.status_code, rent.json()["code"]) == (409, "already_owned")
    buy = await client.post("/cart/items", json={"movie_id": movie}, headers=renter.headers)
    assert (buy.status_code, buy.json()["code"]) == (409, "already_purchased")


async def test_a_movie_without_a_rental_price_cannot_be_rented(client, make_user) -> None:
    renter = await make_user()
    movie = await rentable(rental_price=None)
    refused = await client.post(
        "/cart/items", json={"movie_id": movie, "offer": "rent"}, headers=renter.headers
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "rental_not_offered")
    bad = await client.post("/cart/items", json={"movie_id": movie, "offer": "lease"}, headers=renter.headers)
    assert bad.status_code == 422
    assert await fetch("SELECT id FROM cart_items") == []


async def test_a_rental_withdrawn_after_ordering_cannot_be_paid(client, make_user) -> None:
    renter = await make_user()
    in_cart, ordered = await rentable(), await rentable("Ronin", year=1998)
    for movie in (in_cart, ordered):
        added = await client.post(
            "/cart/items", json={"movie_id": movie, "offer": "rent"}, headers=renter.headers
        )
        assert added.status_code == 201
    await client.delete(f"/cart/items/{in_cart}", headers=renter.headers)
    order = (await client.post("/orders", headers=renter.headers)).json()["order"]
    await client.post("/cart/items", json={"movie_id": in_cart, "offer": "rent"}, headers=renter.headers)
    await Movie.update({Movie.rental_price: None}).where(Movie.id.is_in([in_cart, ordered]))

    cart = (await client.get("/cart", headers=renter.headers)).json()
    assert [(i["movie_id"], i["offer"], i["price"]) for i in cart["items"]] == [(in_cart, "rent", None)]
    assert cart["total"] == "0.00"
    refused = await client.post(f"/payments/{order['id']}", headers=renter.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "rental_not_offered")
    assert await fetch("SELECT id FROM payments") == []
    empty = await client.post("/orders", headers=renter.headers)
    assert empty.json()["removed_items"] == [{"movie_id": in_cart, "reason": "unavailable"}]


async def test_a_running_rental_blocks_renting_again_not_buying(client, make_user) -> None:
    renter = await make_user()
    movie = await rentable()
    await checkout(client, renter, movie, "rent")

    again = await client.post(
        "/cart/items", json={"movie_id": movie, "offer": "rent"}, headers=renter.headers
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_rented")
    buy = await client.post("/cart/items", json={"movie_id": movie, "offer": "buy"}, headers=renter.headers)
    assert (buy.status_code, buy.json()["offer"], buy.json()["price"]) == (201, "buy", "9.99")


async def test_an_order_leaves_out_a_rental_already_running_and_keeps_it_in_the_cart(
    client, make_user
) -> None:
    renter = await make_user()
    movie, other = await rentable(), await rentable("Ronin", year=1998)
    # The cart row is written straight away: the rental began after the movie was put in the cart.
    await client.post("/cart/items", json={"movie_id": movie, "offer": "rent"}, headers=renter.headers)
    await client.post("/cart/items", json={"movie_id": other, "offer": "rent"}, headers=renter.headers)
    await service.grant_rental(renter.id, movie, order_item_id=None, payment_id=None)

    made = (await client.post("/orders", headers=renter.headers)).json()
    assert made["removed_items"] == [{"movie_id": movie, "reason": "rented"}]
    assert [(i["movie_id"], i["offer"], i["price_at_order"]) for i in made["order"]["items"]] == [
        (other, "rent", "2.99")
    ]
    cart = (await client.get("/cart", headers=renter.headers)).json()
    assert [i["movie_id"] for i in cart["items"]] == [movie]


async def test_a_movie_may_set_its_own_rental_window_fixed_at_payment(
    client, make_user, movable_clock
) -> None:
    renter = await make_user()
    movie = await rentable(start_days=2, hours=6)
    await checkout(client, renter, movie, "rent")
    paid_at = movable_clock.now()
    # Changing the movie's terms later does not change the rental already paid.
    await Movie.update({Movie.rental_start_days: 90, Movie.rental_hours: 72}).where(Movie.id == movie)

    [rental] = await rows_of(renter.id, movie)
    assert rental["rental_hours"] == 6
    assert abs(as_datetime(rental["start_by"]) - (paid_at + timedelta(days=2))) < timedelta(seconds=5)
    movable_clock.advance(days=1)
    assert (await play(client, renter, movie)).status_code == 200
    movable_clock.advance(hours=6, seconds=5)
    assert (await play(client, renter, movie)).status_code == 403

    # Never started: it lapses at its start deadline.
    late = await rentable("Ronin", year=1998, start_days=2, hours=6)
    await checkout(client, renter, late, "rent")
    movable_clock.advance(days=2, seconds=5)
    assert (await play(client, renter, late)).status_code == 403


async def test_concurrent_first_playbacks_start_the_clock_once(client, make_user) -> None:
    renter = await make_user()
    movie = await rentable()
    await service.grant_rental(renter.id, movie, order_item_id=None, payment_id=None)
    base = utcnow()

    # At the service: ten first playbacks at once, each at its own instant; one sets the end.
    ends = await asyncio.gather(
        *(service.start_rental(renter.id, movie, base + timedelta(seconds=i)) for i in range(10))
    )
    started = [e for e in ends if e is not None]
    assert len(started) == 1
    [rental] = await rows_of(renter.id, movie)
    assert as_datetime(rental["expires_at"]) == started[0]

    # Over HTTP: every request gets a URL, the end stays where the first start put it.
    other = await rentable("Ronin", year=1998)
    await service.grant_rental(renter.id, other, order_item_id=None, payment_id=None)
    answers = await asyncio.gather(*(play(client, renter, other) for _ in range(10)))
    assert [a.status_code for a in answers] == [200] * 10
    [rental] = await rows_of(renter.id, other)
    first_end = as_datetime(rental["expires_at"])
    assert (await play(client, renter, other)).status_code == 200
    assert as_datetime((await rows_of(renter.id, other))[0]["expires_at"]) == first_end


async def test_ten_concurrent_rent_and_buy_flows_end_consistent(client, make_user) -> None:
    """Ten checkouts of one movie by one user at once, five renting and five buying.

    Whatever order they run in: no 5xx, at most one live right per kind, a
    purchase leaves no live rental next to it, every successful payment made
    exactly one entitlement for its item, and nothing paid is left without one.
    """
    renter = await make_user()
    movie = await rentable()

    async def flow(offer: str) -> list[int]:
        codes = []
        added = await client.post(
            "/cart/items", json={"movie_id": movie, "offer": offer}, headers=renter.headers
        )
        codes.append(added.status_code)
        made = await client.post("/orders", headers=renter.headers)
        codes.append(made.status_code)
        if made.status_code != 201:
            return codes
        order_id = made.json()["order"]["id"]
        created = await client.post(f"/payments/{order_id}", headers=renter.headers)
        codes.append(created.status_code)
        if created.status_code != 201:
            return codes
        paid = await client.post(
            f"/payments/{created.json()['payment_id']}/sandbox/succeed", headers=renter.headers
        )
        codes.append(paid.status_code)
        return codes

    outcomes = await asyncio.gather(*(flow("rent" if i % 2 else "buy") for i in range(10)))
    assert all(code < 500 for codes in outcomes for code in codes), outcomes
    # Then everyone tries once more, one after the other, so the cart is used up.
    for i in range(4):
        await flow("rent" if i % 2 else "buy")

    rows = await fetch(
        "SELECT e.source, e.revoked_at, e.revoke_reason, e.order_item_id, e.payment_id, p.status "
        "FROM entitlements e LEFT JOIN payments p ON p.id = e.payment_id "
        "WHERE e.user_id = {} AND e.movie_id = {} ORDER BY e.id",
        renter.id,
        movie,
    )
    live = [r for r in rows if r["revoked_at"] is None]
    live_purchases = [r for r in live if r["source"] == "purchase"]
    live_rentals = [r for r in live if r["source"] == "rental"]
    assert len(live_purchases) <= 1
    assert len(live_rentals) <= 1
    if live_purchases:
        assert live_rentals == []
        assert {r["revoke_reason"] for r in rows if r["revoked_at"] is not None} <= {
            service.SUPERSEDED_REASON
        }
    assert {r["status"] for r in rows} <= {"successful"}
    paid_items = await fetch(
        "SELECT oi.id, oi.offer FROM order_items oi JOIN orders o ON o.id = oi.order_id "
        "WHERE o.user_id = {} AND o.status = 'paid' ORDER BY oi.id",
        renter.id,
    )
    assert sorted(int(r["order_item_id"]) for r in rows) == [int(i["id"]) for i in paid_items]
    offers = {int(i["id"]): i["offer"] for i in paid_items}
    kinds = {"buy": "purchase", "rent": "rental"}
    assert all(kinds[offers[int(r["order_item_id"])]] == r["source"] for r in rows)
    assert await Purchase.count().where(Purchase.user == renter.id).run() == len(
        [r for r in rows if r["source"] == "purchase"]
    )
    assert len(rows) >= 1


async def test_concurrent_rental_and_purchase_payments_never_leave_both_live(make_user) -> None:
    """The payment paths themselves, ten at once: a rental paid after the purchase is skipped,
    one paid before it is superseded."""
    viewer = await make_user()
    movies = [await rentable(f"Film {i}", year=1990 + i) for i in range(5)]
    items = {m: await pay(viewer.id, m) for m in movies}  # paid orders to link the rows to
    await fetch("UPDATE entitlements SET revoked_at = {}, revoke_reason = 'test'", utcnow())
    order_items = {m: paid.order_item_ids[0] for m, paid in items.items()}

    await asyncio.gather(
        *(
            call
            for m in movies
            for call in (
                service.grant_rentals(
                    viewer.id, [PaidItem(m, order_items[m])], payment_id=items[m].payment_id
                ),
                service.grant_purchases(
                    viewer.id, [PaidItem(m, order_items[m])], payment_id=items[m].payment_id
                ),
            )
        )
    )
    for movie in movies:
        live = [r for r in await rows_of(viewer.id, movie) if r["revoked_at"] is None]
        assert [r["source"] for r in live] == ["purchase"]
        assert await access.may_watch(actor(viewer), movie) is True


async def test_renting_an_owned_movie_is_already_owned(client, make_user) -> None:
    admin = await admin_actor(make_user)
    viewer = await make_user()
    granted, bought = await rentable(), await rentable("Ronin", year=1998)
    await service.grant(admin, viewer.id, granted, reason="gift")
    await pay(viewer.id, bought)

    for movie in (granted, bought):
        rent = await client.post(
            "/cart/items", json={"movie_id": movie, "offer": "rent"}, headers=viewer.headers
        )
        assert (rent.status_code, rent.json()["code"]) == (409, "already_owned")
        buy = await client.post("/cart/items", json={"movie_id": movie}, headers=viewer.headers)
        assert (buy.status_code, buy.json()["code"]) == (409, "already_purchased")
    with pytest.raises(AlreadyOwned):
        await service.grant_rental(viewer.id, bought, order_item_id=None, payment_id=None)
    # A timed grant is not ownership: the movie can still be rented or bought.
    timed = await rentable("Alien", year=1979)
    await service.grant(admin, viewer.id, timed, reason="trial", expires_at=utcnow() + timedelta(days=1))
    rent = await client.post("/cart/items", json={"movie_id": timed, "offer": "rent"}, headers=viewer.headers)
    assert rent.status_code == 201


async def test_a_rental_paid_for_a_movie_owned_meanwhile_is_flagged_for_a_refund(client, make_user) -> None:
    admin = await admin_actor(make_user)
    renter = await make_user()
    movie = await rentable()
    await client.post("/cart/items", json={"movie_id": movie, "offer": "rent"}, headers=renter.headers)
    order = (await client.post("/orders", headers=renter.headers)).json()["order"]
    payment = (await client.post(f"/payments/{order['id']}", headers=renter.headers)).json()
    await service.grant(admin, renter.id, movie, reason="gift")

    paid = await client.post(f"/payments/{payment['payment_id']}/sandbox/succeed", headers=renter.headers)

    assert paid.json()["status"] == "successful"
    assert paid.json()["failure_reason"] == (
        f"Rented movie(s) #{movie} already owned when this payment succeeded: refund them."
    )
    assert [r["source"] for r in await rows_of(renter.id, movie)] == ["grant"]
