"""Orders API (docs/api.md, "Orders") on the real database: creation, money, concurrency, views, cancel."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from cinema.commerce.tables import Order, OrderItem, OrderStatus
from tests.commerce.conftest import cart_movie_ids
from tests.conftest import IS_POSTGRES, TEST_DATABASE_URL


async def _delete_movie_behind_the_cart(movie_id: int) -> None:
    """Remove a movie row while leaving cart rows pointing at it (foreign keys off for this one
    statement), to stand for a movie that left the catalog between cart and order."""
    if IS_POSTGRES:
        import asyncpg

        conn = await asyncpg.connect(TEST_DATABASE_URL)
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")
                await conn.execute("DELETE FROM movie_genres WHERE movie_id = $1", movie_id)
                await conn.execute("DELETE FROM movies WHERE id = $1", movie_id)
        finally:
            await conn.close()
    else:
        db = sqlite3.connect(TEST_DATABASE_URL.removeprefix("sqlite:///"), timeout=30)
        try:
            db.execute("PRAGMA foreign_keys = OFF")
            db.execute("DELETE FROM movie_genres WHERE movie_id = ?", (movie_id,))
            db.execute("DELETE FROM movies WHERE id = ?", (movie_id,))
            db.commit()
        finally:
            db.close()


# --- Creation -----------------------------------------------------------------


async def test_create_order_from_cart(client: Any, make_user: Any, make_movie: Any, fill_cart: Any) -> None:
    user = await make_user()
    heat = await make_movie(name="Heat", price="7.77")
    alien = await make_movie(name="Alien", price="17.99")
    await fill_cart(user.id, [heat.id, alien.id])

    response = await client.post("/orders/", headers=user.headers)
    assert response.status_code == 201
    body = response.json()
    assert body["removed_items"] == []
    order = body["order"]
    assert order["status"] == "pending"
    assert order["user_id"] == user.id
    assert order["total_amount"] == "25.76"
    assert order["items"] == [
        {"movie_id": heat.id, "name": "Heat", "offer": "buy", "price_at_order": "7.77"},
        {"movie_id": alien.id, "name": "Alien", "offer": "buy", "price_at_order": "17.99"},
    ]
    assert datetime.fromisoformat(order["created_at"]).utcoffset() == timedelta(0)
    assert await cart_movie_ids(user.id) == []
    rows = (
        await OrderItem.select(OrderItem.movie.as_alias("movie_id"))
        .where(OrderItem.order == order["id"])
        .run()
    )
    assert sorted(r["movie_id"] for r in rows) == sorted([heat.id, alien.id])


async def test_money_is_exact_on_this_engine(
    client: Any, make_user: Any, make_movie: Any, fill_cart: Any
) -> None:
    """7.77 + 17.99 + 0.29 = 26.05 exactly, in the answer and read back from the database."""
    user = await make_user()
    movies = [await make_movie(price=p) for p in ("7.77", "17.99", "0.29")]
    await fill_cart(user.id, [m.id for m in movies])

    response = await client.post("/orders", headers=user.headers)
    assert response.status_code == 201
    order = response.json()["order"]
    assert order["total_amount"] == "26.05"
    assert [i["price_at_order"] for i in order["items"]] == ["7.77", "17.99", "0.29"]

    from cinema.money import money, to_minor_units

    stored = await Order.select(Order.total_amount).where(Order.id == order["id"]).first().run()
    assert stored is not None
    assert money(stored["total_amount"]) == Decimal("26.05")
    assert str(money(stored["total_amount"])) == "26.05"
    assert to_minor_units(money(stored["total_amount"]), "usd") == 2605
    again = await client.get(f"/orders/{order['id']}", headers=user.headers)
    assert again.json()["total_amount"] == "26.05"


async def test_removed_items_purchased_pending_unavailable(
    client: Any,
    make_user: Any,
    make_movie: Any,
    fill_cart: Any,
    make_purchase: Any,
    make_order: Any,
) -> None:
    user = await make_user()
    good, bought, pending, gone = [await make_movie(price="3.00") for _ in range(4)]
    await fill_cart(user.id, [good.id, bought.id, pending.id, gone.id])
    # States that arise after the movies were put in the cart:
    await make_purchase(user.id, bought.id)
    earlier_order = await make_order(user.id, [pending.id])
    await _delete_movie_behind_the_cart(gone.id)

    response = await client.post("/orders/", headers=user.headers)
    assert response.status_code == 201
    body = response.json()
    assert body["removed_items"] == [
        {"movie_id": bought.id, "reason": "purchased"},
        {"movie_id": pending.id, "reason": "pending_order"},
        {"movie_id": gone.id, "reason": "unavailable"},
    ]
    assert [i["movie_id"] for i in body["order"]["items"]] == [good.id]
    assert body["order"]["total_amount"] == "3.00"
    # Ordered, bought and vanished movies leave the cart; the one in the other pending order stays.
    assert await cart_movie_ids(user.id) == [pending.id]
    assert body["order"]["id"] != earlier_order


async def test_empty_cart_is_400(client: Any, make_user: Any) -> None:
    user = await make_user()
    response = await client.post("/orders/", headers=user.headers)
    assert response.status_code == 400
    assert response.json()["code"] == "empty_cart"
    assert await Order.count().run() == 0


async def test_cart_with_only_removed_items_is_400_and_unchanged(
    client: Any, make_user: Any, make_movie: Any, fill_cart: Any, make_purchase: Any
) -> None:
    user = await make_user()
    movie = await make_movie()
    await fill_cart(user.id, [movie.id])
    await make_purchase(user.id, movie.id)
    orders_before = await Order.count().run()

    response = await client.post("/orders/", headers=user.headers)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "empty_cart"
    assert body["removed_items"] == [{"movie_id": movie.id, "reason": "purchased"}]
    assert await Order.count().run() == orders_before
    assert await cart_movie_ids(user.id) == [movie.id]  # a failed call leaves everything as it was


async def test_order_uses_todays_price(client: Any, make_user: Any, make_movie: Any, fill_cart: Any) -> None:
    from cinema.catalog.tables import Movie

    user = await make_user()
    movie = await make_movie(price="9.99")
    await fill_cart(user.id, [movie.id])
    await Movie.update({Movie.price: Decimal("4.45")}).where(Movie.id == movie.id).run()
    order = (await client.post("/orders/", headers=user.headers)).json()["order"]
    assert order["total_amount"] == "4.45"
    assert order["items"][0]["price_at_order"] == "4.45"


async def test_ten_simultaneous_orders_make_exactly_one(
    client: Any, make_user: Any, make_movie: Any, fill_cart: Any
) -> None:
    user = await make_user()
    movies = [await make_movie(price="2.50") for _ in range(3)]
    await fill_cart(user.id, [m.id for m in movies])

    responses = await asyncio.gather(*(client.post("/orders/", headers=user.headers) for _ in range(10)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * 9
    assert all(r.json()["code"] == "empty_cart" for r in responses if r.status_code == 400)
    assert await Order.count().where(Order.user == user.id).run() == 1
    assert await OrderItem.count().run() == 3
    created = next(r for r in responses if r.status_code == 201).json()["order"]
    assert created["total_amount"] == "7.50"
    assert await cart_movie_ids(user.id) == []


async def test_orders_need_authentication(client: Any) -> None:
    for method, path in (
        ("POST", "/orders/"),
        ("GET", "/orders/"),
        ("GET", "/orders/1"),
        ("PATCH", "/orders/1/cancel"),
        ("GET", "/orders/admin"),
    ):
        response = await client.request(method, path)
        assert response.status_code == 401, path


# --- Reading ------------------------------------------------------------------


async def test_list_my_orders_newest_first_paged(
    client: Any, make_user: Any, make_movie: Any, make_order: Any
) -> None:
    user = await make_user()
    other = await make_user()
    movies = [await make_movie(name=f"M{i}", price="1.00") for i in range(3)]
    ids = [await make_order(user.id, [m.id]) for m in movies]
    await make_order(other.id, [movies[0].id])

    page = (await client.get("/orders/?per_page=2", headers=user.headers)).json()
    assert page["total"] == 3
    assert page["pages"] == 2
    assert page["page"] == 1
    assert page["per_page"] == 2
    assert [o["id"] for o in page["items"]] == [ids[2], ids[1]]
    first = page["items"][0]
    assert set(first) >= {"id", "created_at", "status", "total_amount", "items"}
    assert first["items"] == [
        {"movie_id": movies[2].id, "name": "M2", "offer": "buy", "price_at_order": "1.00"}
    ]
    second = (await client.get("/orders?per_page=2&page=2", headers=user.headers)).json()
    assert [o["id"] for o in second["items"]] == [ids[0]]
    past = (await client.get("/orders?per_page=2&page=9", headers=user.headers)).json()
    assert past["items"] == []
    assert past["total"] == 3
    assert (await client.get("/orders?per_page=101", headers=user.headers)).status_code == 422
    assert (await client.get("/orders?page=0", headers=user.headers)).status_code == 422


async def test_get_order_owner_moderator_and_others(
    client: Any, make_user: Any, make_movie: Any, make_order: Any
) -> None:
    owner = await make_user()
    stranger = await make_user()
    moderator = await make_user(group=GroupName.MODERATOR)
    movie = await make_movie(price="5.55")
    order_id = await make_order(owner.id, [movie.id])

    mine = await client.get(f"/orders/{order_id}", headers=owner.headers)
    assert mine.status_code == 200
    assert mine.json()["total_amount"] == "5.55"
    assert (await client.get(f"/orders/{order_id}/", headers=moderator.headers)).status_code == 200
    hidden = await client.get(f"/orders/{order_id}", headers=stranger.headers)
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "order_not_found"
    assert (await client.get("/orders/99999", headers=owner.headers)).status_code == 404
    assert (await client.get("/orders/abc", headers=owner.headers)).status_code == 422


# --- Cancel -------------------------------------------------------------------


async def test_cancel_pending_then_again(
    client: Any, make_user: Any, make_movie: Any, make_order: Any
) -> None:
    user = await make_user()
    movie = await make_movie()
    order_id = await make_order(user.id, [movie.id])

    response = await client.patch(f"/orders/{order_id}/cancel", headers=user.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    row = await Order.select(Order.status).where(Order.id == order_id).first().run()
    assert row == {"status": "canceled"}

    again = await client.patch(f"/orders/{order_id}/cancel", headers=user.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "not_pending"
    # The movie can go back in the cart once its order is canceled.
    assert (
        await client.post("/cart/items", json={"movie_id": movie.id}, headers=user.headers)
    ).status_code == 201


async def test_cancel_paid_order_needs_refund(
    client: Any, make_user: Any, make_movie: Any, make_order: Any
) -> None:
    user = await make_user()
    movie = await make_movie()
    order_id = await make_order(user.id, [movie.id], status=OrderStatus.PAID)
    response = await client.patch(f"/orders/{order_id}/cancel", headers=user.headers)
    assert response.status_code == 409
    assert response.json()["code"] == "refund_required"
    row = await Order.select(Order.status).where(Order.id == order_id).first().run()
    assert row == {"status": "paid"}


async def test_cancel_is_for_the_owner_only(
    client: Any, make_user: Any, make_movie: Any, make_order: Any
) -> None:
    owner = await make_user()
    stranger = await make_user()
    moderator = await make_user(group=GroupName.MODERATOR)
    movie = await make_movie()
    order_id = await make_order(owner.id, [movie.id])
    for caller in (stranger, moderator):
        response = await client.patch(f"/orders/{order_id}/cancel", headers=caller.headers)
        assert response.status_code == 404
    assert (await client.patch("/orders/99999/cancel", headers=owner.headers)).status_code == 404
    row = await Order.select(Order.status).where(Order.id == order_id).first().run()
    assert row == {"status": "pending"}


# --- Admin list ---------------------------------------------------------------


async def _at(order_id: int, when: datetime) -> None:
    await Order.update({Order.created_at: when}).where(Order.id == order_id).run()


async def test_admin_list_filters(client: Any, make_user: Any, make_movie: Any, make_order: Any) -> None:
    alice = await make_user()
    bob = await make_user()
    moderator = await make_user(group=GroupName.MODERATOR)
    movie = await make_movie()
    day = datetime(2026, 3, 10, tzinfo=UTC)
    a1 = await make_order(alice.id, [movie.id])  # pending, Mar 9 23:30
    a2 = await make_order(alice.id, [movie.id], status=OrderStatus.PAID)  # Mar 10 12:00
    b1 = await make_order(bob.id, [movie.id], status=OrderStatus.CANCELED)  # Mar 11 00:00
    await _at(a1, day - timedelta(minutes=30))
    await _at(a2, day + timedelta(hours=12))
    await _at(b1, day + timedelta(days=1))

    async def ids(query: str) -> list[int]:
        response = await client.get(f"/orders/admin{query}", headers=moderator.headers)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()["items"]]

    assert await ids("") == [b1, a2, a1]
    assert await ids(f"?user_id={alice.id}") == [a2, a1]
    assert await ids("?status=paid") == [a2]
    assert await ids(f"?status=pending&user_id={alice.id}") == [a1]
    assert await ids(f"?user_id={bob.id}&status=pending") == []
    # Dates are whole UTC days, both ends inclusive.
    assert await ids("?date_from=2026-03-10&date_to=2026-03-10") == [a2]
    assert await ids("?date_from=2026-03-10") == [b1, a2]
    assert await ids("?date_to=2026-03-10") == [a2, a1]
    # Datetimes are exact instants, in any offset.
    assert await ids("?date_from=2026-03-09T23:30:00Z&date_to=2026-03-10T12:00:00Z") == [a2, a1]
    assert await ids("?date_from=2026-03-10T01:00:00%2B02:00") == [b1, a2, a1]  # 23:00Z
    assert await ids("?date_from=2026-03-10T01:40:00%2B02:00") == [b1, a2]  # 23:40Z
    assert await ids("?date_to=2026-03-09T23:29:59") == []
    page = (await client.get("/orders/admin/?per_page=1&page=2", headers=moderator.headers)).json()
    assert page["total"] == 3
    assert [o["id"] for o in page["items"]] == [a2]
    assert page["items"][0]["user_id"] == alice.id


async def test_admin_list_bad_input(client: Any, make_user: Any) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    # A number is not read as a Unix timestamp (it used to be: 0.5 meant 1970-01-01).
    for query in ("?status=shipped", "?date_from=yesterday", "?user_id=x", "?per_page=0", "?date_to=0.5"):
        response = await client.get(f"/orders/admin{query}", headers=moderator.headers)
        assert response.status_code == 422, query
    backwards = await client.get(
        "/orders/admin?date_from=2026-03-11&date_to=2026-03-10", headers=moderator.headers
    )
    assert backwards.status_code == 400
    assert backwards.json()["code"] == "invalid_date_range"


async def test_admin_list_is_for_moderators(client: Any, make_user: Any) -> None:
    user = await make_user()
    admin = await make_user(group=GroupName.ADMIN)
    response = await client.get("/orders/admin", headers=user.headers)
    assert response.status_code == 403  # not captured by /orders/{order_id} (that would be 422)
    assert (await client.get("/orders/admin", headers=admin.headers)).status_code == 200


async def test_out_of_range_ids_are_4xx_not_500(client: Any, make_user: Any) -> None:
    user = await make_user()
    moderator = await make_user(group=GroupName.MODERATOR)
    huge = 2**40
    for method, path, headers in (
        ("GET", f"/orders/{huge}", user.headers),
        ("PATCH", f"/orders/{huge}/cancel", user.headers),
        ("GET", f"/orders/admin?user_id={huge}", moderator.headers),
        ("GET", "/orders/0", user.headers),
    ):
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 422, (path, response.text)


async def test_service_treats_out_of_range_ids_as_unknown(make_user: Any) -> None:
    import pytest

    from cinema.commerce import orders
    from cinema.errors import NotFound

    admin = await make_user(group=GroupName.ADMIN)
    with pytest.raises(NotFound):
        await orders.get_order(admin.actor, 2**40)
    with pytest.raises(NotFound):
        await orders.cancel_order(admin.actor, 2**40)


async def test_cancel_cancels_the_orders_pending_payment(
    client: Any, make_user: Any, make_movie: Any, fill_cart: Any
) -> None:
    """Canceling goes through the payments seam: the open (sandbox) intent is canceled too,
    so the checkout that was started can no longer pay a canceled order."""
    from cinema.commerce.tables import Payment

    user = await make_user()
    movie = await make_movie(price="7.77")
    await fill_cart(user.id, [movie.id])
    order_id = (await client.post("/orders/", headers=user.headers)).json()["order"]["id"]
    started = await client.post(f"/payments/{order_id}", headers=user.headers)
    assert started.status_code == 201, started.text
    assert started.json()["amount"] == "7.77"

    canceled = await client.patch(f"/orders/{order_id}/cancel", headers=user.headers)
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    payments = await Payment.select(Payment.status).where(Payment.order == order_id).run()
    assert payments == [{"status": "canceled"}]
    again = await client.post(f"/payments/{order_id}", headers=user.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "not_pending"


@pytest.mark.parametrize("path", ["/orders/admin", "/payments/admin"])
@pytest.mark.parametrize(
    "query",
    [
        "?date_to=9999-12-31",
        "?date_from=9999-12-31T23:59:59-14:00",
        "?date_to=9999-12-31T23:59:59-14:00",
    ],
)
async def test_admin_list_dates_past_the_calendar_are_422(
    client: Any, make_user: Any, path: str, query: str
) -> None:
    admin = await make_user(group=GroupName.ADMIN)

    response = await client.get(f"{path}{query}", headers=admin.headers)

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_date"


async def test_free_movie_is_left_out_as_unavailable(
    client: Any, make_user: Any, make_movie: Any, fill_cart: Any
) -> None:
    user = await make_user()
    free = await make_movie(name="Free", price="0.00")
    paid = await make_movie(name="Paid", price="3.50")
    await fill_cart(user.id, [free.id, paid.id])

    response = await client.post("/orders/", headers=user.headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["removed_items"] == [{"movie_id": free.id, "reason": "unavailable"}]
    assert [i["movie_id"] for i in body["order"]["items"]] == [paid.id]
    assert body["order"]["total_amount"] == "3.50"
    assert await cart_movie_ids(user.id) == []

    await fill_cart(user.id, [free.id])
    only_free = await client.post("/orders/", headers=user.headers)
    assert only_free.status_code == 400
    assert only_free.json()["code"] == "empty_cart"


async def test_order_whose_price_dropped_to_zero_is_409_then_cancelable(
    client: Any, make_user: Any, make_movie: Any, make_order: Any
) -> None:
    from cinema.catalog.tables import Movie

    user = await make_user()
    movie = await make_movie(price="4.00")
    order_id = await make_order(user.id, [movie.id])
    await Movie.update({Movie.price: Decimal("0.00")}).where(Movie.id == movie.id).run()

    pay = await client.post(f"/payments/{order_id}", headers=user.headers)
    assert (pay.status_code, pay.json()["code"]) == (409, "nothing_to_pay")
    canceled = await client.patch(f"/orders/{order_id}/cancel", headers=user.headers)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    # The movie is free again for the cart (it was held by the pending order).
    assert (
        await client.post("/cart/items", json={"movie_id": movie.id}, headers=user.headers)
    ).status_code == 201
