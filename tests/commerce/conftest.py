"""Commerce fixtures: movies, carts, pending orders and purchases written straight to the tables.

They do not go through the services under test, so a test can set up any
state (a purchased movie, another user's pending order) in one line:

    movie = await make_movie(price="7.77")
    await fill_cart(user.id, [movie.id])
    order_id = await make_order(user.id, [movie.id])          # pending
    await make_purchase(user.id, movie.id)                     # paid order + purchase row
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from cinema.catalog.tables import Certification, Genre, Movie, MovieGenre
from cinema.clock import utcnow
from cinema.commerce.tables import Cart, CartItem, Order, OrderItem, OrderStatus, Purchase
from cinema.entitlements.service import PaidItem, grant_purchases
from cinema.money import money
from tests.cli_support import invoke_cli

T = TypeVar("T")

MakeMovie = Callable[..., Awaitable[Movie]]


async def _certification_id(name: str = "PG-13") -> int:
    row = await Certification.select(Certification.id).where(Certification.name == name).first().run()
    if row is not None:
        return int(row["id"])
    cert = Certification(name=name)
    await cert.save()
    return int(cert.id)


async def _genre_id(name: str) -> int:
    row = await Genre.select(Genre.id).where(Genre.name == name).first().run()
    if row is not None:
        return int(row["id"])
    genre = Genre(name=name)
    await genre.save()
    return int(genre.id)


@pytest.fixture
def make_movie() -> MakeMovie:
    """Factory: `await make_movie(name=None, price="9.99", year=2000, genres=("Drama",))` -> Movie row."""
    counter = {"n": 0}

    async def make(
        name: str | None = None,
        price: str | Decimal = "9.99",
        year: int = 2000,
        genres: Sequence[str] = ("Drama",),
        time: int = 120,
    ) -> Movie:
        counter["n"] += 1
        movie = Movie(
            name=name or f"Test Movie {counter['n']}",
            year=year,
            time=time,
            imdb=7.5,
            votes=1000,
            description="A film made for the tests.",
            price=money(price),
            certification=await _certification_id(),
        )
        await movie.save()
        for genre in genres:
            await MovieGenre(movie=movie.id, genre=await _genre_id(genre)).save()
        return movie

    return make


async def cart_id_for(user_id: int) -> int:
    """The user's cart id, creating the cart row if needed."""
    row = await Cart.select(Cart.id).where(Cart.user == user_id).first().run()
    if row is not None:
        return int(row["id"])
    cart = Cart(user=user_id)
    await cart.save()
    return int(cart.id)


@pytest.fixture
def fill_cart() -> Callable[[int, Sequence[int]], Awaitable[int]]:
    """`await fill_cart(user_id, movie_ids)` puts the movies in the user's cart; returns the cart id."""

    async def fill(user_id: int, movie_ids: Sequence[int]) -> int:
        cart_id = await cart_id_for(user_id)
        for movie_id in movie_ids:
            await CartItem(cart=cart_id, movie=movie_id).save()
        return cart_id

    return fill


async def _order(user_id: int, movie_ids: Sequence[int], status: OrderStatus) -> int:
    prices: list[Decimal] = []
    for movie_id in movie_ids:
        row = await Movie.select(Movie.price).where(Movie.id == movie_id).first().run()
        assert row is not None, f"no movie {movie_id}"
        prices.append(money(row["price"]))
    order = Order(
        user=user_id,
        status=status,
        total_amount=money(sum(prices, Decimal(0))),
        created_at=utcnow(),
    )
    await order.save()
    for movie_id, price in zip(movie_ids, prices, strict=True):
        await OrderItem(order=order.id, movie=movie_id, price_at_order=price).save()
    return int(order.id)


@pytest.fixture
def make_order() -> Callable[..., Awaitable[int]]:
    """`await make_order(user_id, movie_ids, status=OrderStatus.PENDING)` -> order id (prices = today's)."""

    async def make(user_id: int, movie_ids: Sequence[int], status: OrderStatus = OrderStatus.PENDING) -> int:
        return await _order(user_id, movie_ids, status)

    return make


@pytest.fixture
def make_purchase() -> Callable[[int, int], Awaitable[int]]:
    """`await make_purchase(user_id, movie_id)`: a paid order for the movie, its purchase row and
    `purchase` entitlement (what a payment writes); -> order id."""

    async def make(user_id: int, movie_id: int) -> int:
        order_id = await _order(user_id, [movie_id], OrderStatus.PAID)
        await Purchase(user=user_id, movie=movie_id, order=order_id).save()
        item = await OrderItem.select(OrderItem.id).where(OrderItem.order == order_id).first().run()
        assert item is not None
        await grant_purchases(user_id, [PaidItem(movie_id, int(item["id"]))], payment_id=None)
        return order_id

    return make


async def cart_movie_ids(user_id: int) -> list[int]:
    """Movie ids in the user's cart (sorted), read from the tables."""
    rows: list[dict[str, Any]] = (
        await CartItem.select(CartItem.movie.as_alias("movie_id")).where(CartItem.cart.user == user_id).run()
    )
    return sorted(int(r["movie_id"]) for r in rows)


# --- CLI (see tests/cli_support.py) ----------------------------------------------


@pytest.fixture
def cli() -> Callable[..., Any]:
    """`cli("orders", "list", "--json")` -> click Result (`exit_code`, `stdout`, `stderr`)."""
    return invoke_cli
