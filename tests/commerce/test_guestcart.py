"""The guest cart through the real front doors: `cart_movie_ids` at register and login."""

from __future__ import annotations

from typing import Any

from cinema.catalog.tables import Movie
from cinema.money import money
from tests.commerce.conftest import cart_movie_ids
from tests.conftest import STRONG_PASSWORD


async def test_login_merges_guest_cart(
    client: Any, make_user: Any, make_movie: Any, fill_cart: Any, make_purchase: Any
) -> None:
    user = await make_user()
    kept, bought, new = [await make_movie(price="4.00") for _ in range(3)]
    await fill_cart(user.id, [kept.id])
    await make_purchase(user.id, bought.id)

    response = await client.post(
        "/accounts/login",
        json={
            "email": user.email,
            "password": user.password,
            "cart_movie_ids": [kept.id, bought.id, new.id, 777777],
        },
    )
    assert response.status_code == 200, response.text
    assert await cart_movie_ids(user.id) == sorted([kept.id, new.id])
    cart = (
        await client.get("/cart", headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    ).json()
    assert cart["total"] == "8.00"


async def test_register_merges_guest_cart(client: Any, make_movie: Any) -> None:
    a, b = await make_movie(), await make_movie()
    response = await client.post(
        "/accounts/register",
        json={
            "email": "guest@example.com",
            "password": STRONG_PASSWORD,
            "cart_movie_ids": [b.id, a.id, 123456],
        },
    )
    assert response.status_code == 201, response.text
    assert await cart_movie_ids(response.json()["id"]) == sorted([a.id, b.id])


async def _offered_for_rent(movie: Any, rental_price: str = "2.50") -> None:
    await Movie.update({Movie.rental_price: money(rental_price)}).where(Movie.id == movie.id)


async def test_register_keeps_each_guest_items_offer(client: Any, make_movie: Any) -> None:
    """Items are ids (bought) or `{movie_id, offer}`, mixed; a movie given twice keeps its first item."""
    rented, bought, plain, not_rentable = [await make_movie(price="6.00") for _ in range(4)]
    for movie in (rented, bought):
        await _offered_for_rent(movie)
    response = await client.post(
        "/accounts/register",
        json={
            "email": "guest@example.com",
            "password": STRONG_PASSWORD,
            "cart_movie_ids": [
                {"movie_id": rented.id, "offer": "rent"},
                {"movie_id": bought.id},
                plain.id,
                {"movie_id": rented.id, "offer": "buy"},
                {"movie_id": not_rentable.id, "offer": "rent"},
            ],
        },
    )
    assert response.status_code == 201, response.text
    rows = await fetch_items(response.json()["id"])
    assert sorted(rows) == sorted(
        [(rented.id, "rent", "2.50"), (bought.id, "buy", "6.00"), (plain.id, "buy", "6.00")]
    )


async def fetch_items(user_id: int) -> list[tuple[int, str, str]]:
    from cinema.commerce.tables import CartItem

    rows = (
        await CartItem.select(
            CartItem.movie.as_alias("movie_id"),
            CartItem.offer,
            CartItem.movie._.price.as_alias("price"),
            CartItem.movie._.rental_price.as_alias("rental_price"),
        )
        .where(CartItem.cart.user == user_id)
        .run()
    )
    return [
        (
            int(r["movie_id"]),
            r["offer"],
            str(money(r["rental_price"] if r["offer"] == "rent" else r["price"])),
        )
        for r in rows
    ]


async def test_login_merge_follows_what_the_user_holds(
    client: Any, make_user: Any, make_movie: Any, make_purchase: Any
) -> None:
    """Renting an owned movie or one rented now is skipped; buying a rented one goes in."""
    from cinema.entitlements.service import grant_rental

    user = await make_user()
    owned, renting, fresh = [await make_movie(price="5.00") for _ in range(3)]
    for movie in (owned, renting, fresh):
        await _offered_for_rent(movie)
    await make_purchase(user.id, owned.id)
    await grant_rental(user.id, renting.id, order_item_id=None, payment_id=None)

    response = await client.post(
        "/accounts/login",
        json={
            "email": user.email,
            "password": user.password,
            "cart_movie_ids": [
                {"movie_id": owned.id, "offer": "rent"},
                {"movie_id": renting.id, "offer": "rent"},
                {"movie_id": fresh.id, "offer": "rent"},
            ],
        },
    )
    assert response.status_code == 200, response.text
    assert await fetch_items(user.id) == [(fresh.id, "rent", "2.50")]

    again = await client.post(
        "/accounts/login",
        json={
            "email": user.email,
            "password": user.password,
            "cart_movie_ids": [
                {"movie_id": renting.id, "offer": "buy"},
                {"movie_id": owned.id, "offer": "buy"},
            ],
        },
    )
    assert again.status_code == 200
    assert sorted(await fetch_items(user.id)) == sorted(
        [(fresh.id, "rent", "2.50"), (renting.id, "buy", "5.00")]
    )


async def test_a_guest_item_with_an_unknown_offer_is_422(client: Any, make_user: Any) -> None:
    user = await make_user()
    response = await client.post(
        "/accounts/login",
        json={
            "email": user.email,
            "password": user.password,
            "cart_movie_ids": [{"movie_id": 1, "offer": "lend"}],
        },
    )
    assert response.status_code == 422
