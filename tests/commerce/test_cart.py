"""Cart API (docs/api.md, "Cart") and the guest-cart merge, on the real database."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from cinema.commerce.carts import merge_guest_cart
from cinema.commerce.tables import Cart, CartItem
from tests.catalog.conftest import count_queries
from tests.commerce.conftest import cart_movie_ids


async def test_empty_cart_has_no_items_and_zero_total(client: Any, make_user: Any) -> None:
    user = await make_user()
    response = await client.get("/cart", headers=user.headers)
    assert response.status_code == 200
    assert response.json() == {"user_id": user.id, "items": [], "total": "0.00"}
    assert await Cart.count().run() == 0  # viewing does not create a cart


async def test_add_items_then_view_cart(client: Any, make_user: Any, make_movie: Any) -> None:
    user = await make_user()
    heat = await make_movie(name="Heat", price="7.77", year=1995, genres=("Crime", "Action"))
    alien = await make_movie(name="Alien", price="17.99", year=1979, genres=("Horror",))

    first = await client.post("/cart/items", json={"movie_id": heat.id}, headers=user.headers)
    assert first.status_code == 201
    body = first.json()
    assert body["movie_id"] == heat.id
    assert body["name"] == "Heat"
    assert body["price"] == "7.77"
    assert body["genres"] == ["Action", "Crime"]
    assert body["year"] == 1995
    assert datetime.fromisoformat(body["added_at"]).utcoffset() is not None
    assert (
        await client.post("/cart/items/", json={"movie_id": alien.id}, headers=user.headers)
    ).status_code == 201

    cart = (await client.get("/cart/", headers=user.headers)).json()
    assert [i["movie_id"] for i in cart["items"]] == [heat.id, alien.id]
    assert [i["price"] for i in cart["items"]] == ["7.77", "17.99"]
    assert cart["total"] == "25.76"
    assert await Cart.count().where(Cart.user == user.id).run() == 1


async def test_add_unknown_movie_is_404(client: Any, make_user: Any) -> None:
    user = await make_user()
    response = await client.post("/cart/items", json={"movie_id": 999999}, headers=user.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "movie_not_found"


async def test_add_bad_body_is_422(client: Any, make_user: Any) -> None:
    user = await make_user()
    for body in ({}, {"movie_id": "abc"}, {"movie_id": 0}):
        response = await client.post("/cart/items", json=body, headers=user.headers)
        assert response.status_code == 422, body


async def test_add_twice_is_409_already_in_cart(client: Any, make_user: Any, make_movie: Any) -> None:
    user = await make_user()
    movie = await make_movie()
    assert (
        await client.post("/cart/items", json={"movie_id": movie.id}, headers=user.headers)
    ).status_code == 201
    again = await client.post("/cart/items", json={"movie_id": movie.id}, headers=user.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "already_in_cart"
    assert await cart_movie_ids(user.id) == [movie.id]


async def test_add_purchased_movie_is_409(
    client: Any, make_user: Any, make_movie: Any, make_purchase: Any
) -> None:
    user = await make_user()
    movie = await make_movie()
    await make_purchase(user.id, movie.id)
    response = await client.post("/cart/items", json={"movie_id": movie.id}, headers=user.headers)
    assert response.status_code == 409
    assert response.json()["code"] == "already_purchased"
    assert await cart_movie_ids(user.id) == []


async def test_add_movie_in_pending_order_is_409(
    client: Any, make_user: Any, make_movie: Any, make_order: Any
) -> None:
    user = await make_user()
    other = await make_user()
    movie = await make_movie()
    await make_order(user.id, [movie.id])
    response = await client.post("/cart/items", json={"movie_id": movie.id}, headers=user.headers)
    assert response.status_code == 409
    assert response.json()["code"] == "in_pending_order"
    # Another user's pending order does not block this one.
    assert (
        await client.post("/cart/items", json={"movie_id": movie.id}, headers=other.headers)
    ).status_code == 201


async def test_canceled_order_does_not_block(
    client: Any, make_user: Any, make_movie: Any, make_order: Any
) -> None:
    from cinema.commerce.tables import OrderStatus

    user = await make_user()
    movie = await make_movie()
    await make_order(user.id, [movie.id], status=OrderStatus.CANCELED)
    assert (
        await client.post("/cart/items", json={"movie_id": movie.id}, headers=user.headers)
    ).status_code == 201


async def test_concurrent_first_adds_make_one_cart(client: Any, make_user: Any, make_movie: Any) -> None:
    user = await make_user()
    movies = [await make_movie() for _ in range(6)]
    responses = await asyncio.gather(
        *(client.post("/cart/items", json={"movie_id": m.id}, headers=user.headers) for m in movies)
    )
    assert [r.status_code for r in responses] == [201] * 6
    assert await Cart.count().where(Cart.user == user.id).run() == 1
    assert await cart_movie_ids(user.id) == sorted(m.id for m in movies)


async def test_concurrent_duplicate_adds_add_once(client: Any, make_user: Any, make_movie: Any) -> None:
    user = await make_user()
    movie = await make_movie()
    responses = await asyncio.gather(
        *(client.post("/cart/items", json={"movie_id": movie.id}, headers=user.headers) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    assert await cart_movie_ids(user.id) == [movie.id]


async def test_remove_item(client: Any, make_user: Any, make_movie: Any, fill_cart: Any) -> None:
    user = await make_user()
    a, b = await make_movie(), await make_movie()
    await fill_cart(user.id, [a.id, b.id])
    response = await client.delete(f"/cart/items/{a.id}", headers=user.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert await cart_movie_ids(user.id) == [b.id]
    again = await client.delete(f"/cart/items/{a.id}", headers=user.headers)
    assert again.status_code == 404
    assert again.json()["code"] == "not_in_cart"


async def test_remove_from_missing_cart_is_404(client: Any, make_user: Any) -> None:
    user = await make_user()
    response = await client.delete("/cart/items/5", headers=user.headers)
    assert response.status_code == 404


async def test_clear_cart(client: Any, make_user: Any, make_movie: Any, fill_cart: Any) -> None:
    user = await make_user()
    other = await make_user()
    a, b = await make_movie(), await make_movie()
    await fill_cart(user.id, [a.id, b.id])
    await fill_cart(other.id, [a.id])
    assert (await client.delete("/cart", headers=user.headers)).status_code == 204
    assert await cart_movie_ids(user.id) == []
    assert await cart_movie_ids(other.id) == [a.id]
    # Clearing an empty (or never created) cart is fine too.
    assert (await client.delete("/cart/", headers=user.headers)).status_code == 204
    fresh = await make_user()
    assert (await client.delete("/cart", headers=fresh.headers)).status_code == 204


async def test_cart_needs_authentication(client: Any) -> None:
    for method, path in (
        ("GET", "/cart"),
        ("POST", "/cart/items"),
        ("DELETE", "/cart"),
        ("DELETE", "/cart/items/1"),
    ):
        response = await client.request(method, path, json={"movie_id": 1})
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"


async def test_cart_total_follows_todays_price(
    client: Any, make_user: Any, make_movie: Any, fill_cart: Any
) -> None:
    from cinema.catalog.tables import Movie

    user = await make_user()
    movie = await make_movie(price="5.00")
    await fill_cart(user.id, [movie.id])
    await Movie.update({Movie.price: "6.49"}).where(Movie.id == movie.id).run()
    cart = (await client.get("/cart", headers=user.headers)).json()
    assert cart["items"][0]["price"] == "6.49"
    assert cart["total"] == "6.49"


# --- Moderator routes ---------------------------------------------------------


async def test_moderator_views_adds_and_clears_any_cart(
    client: Any, make_user: Any, make_movie: Any, fill_cart: Any
) -> None:
    owner = await make_user()
    moderator = await make_user(group=GroupName.MODERATOR)
    a, b = await make_movie(price="1.10"), await make_movie(price="2.20")
    await fill_cart(owner.id, [a.id])

    view = await client.get(f"/carts/{owner.id}", headers=moderator.headers)
    assert view.status_code == 200
    assert view.json()["user_id"] == owner.id
    assert [i["movie_id"] for i in view.json()["items"]] == [a.id]

    added = await client.post(f"/carts/{owner.id}/items", json={"movie_id": b.id}, headers=moderator.headers)
    assert added.status_code == 201
    assert await cart_movie_ids(owner.id) == [a.id, b.id]
    assert (await client.get(f"/carts/{owner.id}/", headers=moderator.headers)).json()["total"] == "3.30"
    dup = await client.post(f"/carts/{owner.id}/items", json={"movie_id": b.id}, headers=moderator.headers)
    assert dup.status_code == 409
    assert dup.json()["code"] == "already_in_cart"

    assert (await client.delete(f"/carts/{owner.id}", headers=moderator.headers)).status_code == 204
    assert await cart_movie_ids(owner.id) == []
    assert await cart_movie_ids(moderator.id) == []


async def test_moderator_cart_rules_apply(
    client: Any, make_user: Any, make_movie: Any, make_purchase: Any
) -> None:
    owner = await make_user()
    admin = await make_user(group=GroupName.ADMIN)
    movie = await make_movie()
    await make_purchase(owner.id, movie.id)
    response = await client.post(
        f"/carts/{owner.id}/items", json={"movie_id": movie.id}, headers=admin.headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "already_purchased"


async def test_moderator_routes_unknown_user_is_404(client: Any, make_user: Any, make_movie: Any) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    movie = await make_movie()
    for response in (
        await client.get("/carts/424242", headers=moderator.headers),
        await client.delete("/carts/424242", headers=moderator.headers),
        await client.post("/carts/424242/items", json={"movie_id": movie.id}, headers=moderator.headers),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "user_not_found"


async def test_plain_user_cannot_use_moderator_routes(client: Any, make_user: Any, make_movie: Any) -> None:
    owner = await make_user()
    intruder = await make_user()
    movie = await make_movie()
    assert (await client.get(f"/carts/{owner.id}", headers=intruder.headers)).status_code == 403
    assert (await client.delete(f"/carts/{owner.id}", headers=intruder.headers)).status_code == 403
    post = await client.post(
        f"/carts/{owner.id}/items", json={"movie_id": movie.id}, headers=intruder.headers
    )
    assert post.status_code == 403
    # Even for their own id, the moderator path needs the role.
    assert (await client.get(f"/carts/{intruder.id}", headers=intruder.headers)).status_code == 403
    assert await CartItem.count().run() == 0


# --- Guest cart merge ---------------------------------------------------------


async def test_merge_guest_cart_skips_existing_unknown_purchased_and_pending(
    make_user: Any, make_movie: Any, fill_cart: Any, make_purchase: Any, make_order: Any
) -> None:
    user = await make_user()
    in_cart, bought, pending, new1, new2 = [await make_movie() for _ in range(5)]
    await fill_cart(user.id, [in_cart.id])
    await make_purchase(user.id, bought.id)
    await make_order(user.id, [pending.id])

    added = await merge_guest_cart(
        user.id, [new2.id, in_cart.id, 987654, bought.id, pending.id, new1.id, new2.id, -3, 2**40]
    )
    assert added == [new2.id, new1.id]
    assert await cart_movie_ids(user.id) == sorted([in_cart.id, new1.id, new2.id])
    # Merging the same guest cart again adds nothing.
    assert await merge_guest_cart(user.id, [new1.id, new2.id]) == []


async def test_merge_guest_cart_creates_the_cart(make_user: Any, make_movie: Any) -> None:
    user = await make_user()
    movie = await make_movie()
    assert await merge_guest_cart(user.id, []) == []
    assert await Cart.count().run() == 0
    assert await merge_guest_cart(user.id, [movie.id]) == [movie.id]
    assert await Cart.count().where(Cart.user == user.id).run() == 1
    assert await cart_movie_ids(user.id) == [movie.id]


async def test_out_of_range_ids_are_4xx_not_500(client: Any, make_user: Any) -> None:
    user = await make_user()
    moderator = await make_user(group=GroupName.MODERATOR)
    huge = 2**40
    assert (
        await client.post("/cart/items", json={"movie_id": huge}, headers=user.headers)
    ).status_code == 422
    assert (await client.delete(f"/cart/items/{huge}", headers=user.headers)).status_code == 422
    assert (await client.get(f"/carts/{huge}", headers=moderator.headers)).status_code == 422
    assert (await client.delete(f"/carts/{huge}", headers=moderator.headers)).status_code == 422
    post = await client.post(f"/carts/{huge}/items", json={"movie_id": 1}, headers=moderator.headers)
    assert post.status_code == 422


async def test_service_treats_out_of_range_ids_as_unknown(make_user: Any) -> None:
    import pytest

    from cinema.commerce import carts
    from cinema.errors import NotFound

    user = await make_user()
    moderator = await make_user(group=GroupName.MODERATOR)
    with pytest.raises(NotFound) as unknown_user:
        await carts.get_cart(moderator.actor, 2**40)
    assert unknown_user.value.code == "user_not_found"
    with pytest.raises(NotFound) as unknown_movie:
        await carts.add_to_cart(user.actor, 2**40)
    assert unknown_movie.value.code == "movie_not_found"
    with pytest.raises(NotFound):
        await carts.remove_from_cart(user.actor, 2**40)


@pytest.mark.postgres_only
async def test_add_racing_a_movie_deletion_is_404_not_500(
    client: Any, make_user: Any, make_movie: Any
) -> None:
    """The movie is deleted (uncommitted) after the add read it; the insert then fails its foreign key."""
    import asyncpg

    from tests.conftest import TEST_DATABASE_URL

    user = await make_user()
    movie = await make_movie(name="Doomed")
    conn = await asyncpg.connect(TEST_DATABASE_URL)
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("DELETE FROM movie_genres WHERE movie_id = $1", movie.id)
        await conn.execute("DELETE FROM movies WHERE id = $1", movie.id)
        add = asyncio.create_task(
            client.post("/cart/items", json={"movie_id": movie.id}, headers=user.headers)
        )
        await asyncio.sleep(1.0)  # the add reads the movie, then waits on its row lock to insert
        await tx.commit()
        response = await add
    finally:
        await conn.close()

    assert response.status_code == 404, response.text
    assert response.json()["code"] == "movie_not_found"
    assert await cart_movie_ids(user.id) == []


async def test_get_cart_runs_a_fixed_number_of_statements(
    client: Any, make_user: Any, make_movie: Any, fill_cart: Any
) -> None:
    """GET /cart is two SQL statements (authenticate, then the cart with its genres), whatever its size: it is a hot path."""
    user = await make_user()
    await client.get("/cart", headers=user.headers)  # warm-up: nothing lazily loaded inside the count
    with count_queries() as empty:
        response = await client.get("/cart", headers=user.headers)
    assert response.status_code == 200
    assert response.json()["items"] == []

    movies = [await make_movie(genres=("Drama", "Crime")) for _ in range(5)]
    await fill_cart(user.id, [m.id for m in movies])
    with count_queries() as full:
        response = await client.get("/cart", headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    assert [i["movie_id"] for i in body["items"]] == [m.id for m in movies]
    assert body["items"][0]["genres"] == ["Crime", "Drama"]
    assert body["total"] == "49.95"
    assert empty.count == 2, empty.statements
    assert full.count == 2, full.statements
