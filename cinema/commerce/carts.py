"""Carts: view, add, remove, clear, and the guest-cart merge at sign-up and sign-in.

Rules (docs/api.md, "Cart"):
- one cart per user, created on the first add (`carts.user_id` is unique; the
  row is made with INSERT ... ON CONFLICT DO NOTHING, so two first adds at
  once make one cart);
- the actor works on their own cart; naming another user's cart (`user=`)
  is for MODERATOR and above (`cinema.commerce.access`), and that user must
  exist (404 `user_not_found`);
- an item is a movie and its `offer`, `buy` (the default) or `rent`
  (`cinema.commerce.offers`); renting a movie without a rental price is 409
  `rental_not_offered`;
- the movie exists (404 `movie_not_found`) and is not in one of their open
  orders (409 `in_pending_order`); what the user holds follows the
  entitlements (`entitlements.holdings`): buying a movie owned for good (a
  purchase or a permanent grant) is 409 `already_purchased`, renting it 409
  `already_owned`; renting a movie while a rental of it runs is 409
  `already_rented`, while buying it then is allowed (the purchase supersedes
  the rental);
- no duplicates: UNIQUE(cart_id, movie_id), whatever the offer; a second add
  is 409 `already_in_cart`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from cinema.accounts.actor import CurrentUser
from cinema.accounts.errors import UserNotFound
from cinema.accounts.schemas import GuestCartItem
from cinema.accounts.tables import User
from cinema.catalog.errors import MovieNotFound
from cinema.catalog.tables import Movie
from cinema.commerce.access import CART_STAFF, require_role
from cinema.commerce.errors import (
    AlreadyInCart,
    AlreadyPurchased,
    AlreadyRented,
    CartItemNotFound,
    InPendingOrder,
    RentalNotOffered,
)
from cinema.commerce.offers import Offer, offer_price
from cinema.commerce.schemas import CartItemOut, CartOut
from cinema.commerce.statuses import OPEN_ORDERS, values
from cinema.commerce.tables import Cart, CartItem, OrderItem
from cinema.db import MAX_ID, fetch, is_foreign_key_violation, is_postgres, locked, transaction
from cinema.entitlements.errors import AlreadyOwned
from cinema.entitlements.service import Holding, holdings
from cinema.money import total
from cinema.sql import as_datetime

#: A user given as an id, or (CLI) as an id or email in text.
UserRef = int | str


def is_valid_id(value: int) -> bool:
    """True when `value` can be a row id (1..2**31-1); larger ids would fail in the database."""
    return 1 <= value <= MAX_ID


async def validate_user(user: UserRef) -> int:
    """The id of an existing user given by id or email (text digits count as an id).

    Raises `UserNotFound` (404) when there is no such user.
    """
    if isinstance(user, int) or user.strip().isdigit():
        clause = User.id == int(user)
        valid = is_valid_id(int(user))
    else:
        clause = User.email == User.normalize_email(user)
        valid = True
    row = await User.select(User.id).where(clause).first().run() if valid else None
    if row is None:
        raise UserNotFound()
    return int(row["id"])


async def _owner_id(actor: CurrentUser, user: UserRef | None) -> int:
    """Whose cart the actor works on: their own (`user` None), or a named user's (staff only).

    The actor's own account was read when they authenticated, so it is not
    looked up again: GET /cart is then one statement after authentication.
    Raises `StaffOnly` (403), then `UserNotFound` (404).
    """
    if user is None:
        return actor.id
    require_role(actor, CART_STAFF)
    return await validate_user(user)


async def validate_movie(movie_id: int, offer: Offer = Offer.BUY) -> None:
    """Raises `MovieNotFound` (404) unless the movie exists, `RentalNotOffered` (409) unless it has the offer."""
    rows = (
        await Movie.select(Movie.price, Movie.rental_price).where(Movie.id == movie_id).run()
        if is_valid_id(movie_id)
        else []
    )
    if not rows:
        raise MovieNotFound()
    if offer_price(offer, rows[0]["price"], rows[0]["rental_price"]) is None:
        raise RentalNotOffered(movie_id=movie_id)


def refusal(
    offer: Offer, holding: Holding | None
) -> type[AlreadyPurchased | AlreadyOwned | AlreadyRented] | None:
    """Why the user may not take `offer` of a movie they hold so (None: they may).

    Owned for good: buying again is `AlreadyPurchased`, renting `AlreadyOwned`.
    A running rental refuses a second rental (`AlreadyRented`), not a purchase.
    """
    if holding is Holding.OWNED:
        return AlreadyPurchased if offer is Offer.BUY else AlreadyOwned
    if holding is Holding.RENTED and offer is Offer.RENT:
        return AlreadyRented
    return None


async def pending_movie_ids(user_id: int, movie_ids: list[int]) -> set[int]:
    """Which of `movie_ids` are in one of the user's open orders (`OPEN_ORDERS`)."""
    if not movie_ids:
        return set()
    rows = (
        await OrderItem.select(OrderItem.movie.as_alias("movie_id"))
        .where(
            (OrderItem.order.user == user_id)
            & OrderItem.order.status.is_in(values(OPEN_ORDERS))
            & OrderItem.movie.is_in(movie_ids)
        )
        .run()
    )
    return {int(r["movie_id"]) for r in rows}


async def validate_movie_purchase_status(user_id: int, movie_id: int, offer: Offer = Offer.BUY) -> None:
    """The movie can go in the user's cart with `offer`: see `refusal`, and not in an open order.

    Raises `AlreadyPurchased`, `AlreadyOwned`, `AlreadyRented` or `InPendingOrder` (409).
    """
    refused = refusal(offer, (await holdings(user_id, [movie_id])).get(movie_id))
    if refused is not None:
        raise refused(movie_id=movie_id)
    if await pending_movie_ids(user_id, [movie_id]):
        raise InPendingOrder()


async def _ensure_cart(user_id: int) -> int:
    """The user's cart id, created if missing (safe when two requests race)."""
    await Cart.insert(Cart(user=user_id)).on_conflict(target=Cart.user, action="DO NOTHING").run()
    row = await Cart.select(Cart.id).where(Cart.user == user_id).first().run()
    assert row is not None
    return int(row["id"])


async def lock_cart(user_id: int) -> int | None:
    """The user's cart id (None when there is none), locked until the transaction ends.

    Call inside `transaction()`: order creation and adds for one user then
    run one at a time (`cinema.db.locked`).
    """
    row = await locked(Cart.select(Cart.id).where(Cart.user == user_id)).first().run()
    return None if row is None else int(row["id"])


async def _cart_id(user_id: int) -> int | None:
    row = await Cart.select(Cart.id).where(Cart.user == user_id).first().run()
    return None if row is None else int(row["id"])


def _cart_sql(movie_id: int | None) -> str:
    """The cart's items with their movie and its genre names, oldest first: one statement.

    Genre names come as a PostgreSQL array (asyncpg decodes it to a list, no JSON
    to parse) or, on SQLite, as a JSON array. The text is built once per engine
    and shape (`_CART_SQL`), not per request: GET /cart is a hot path.
    """
    postgres = is_postgres()
    key = (postgres, movie_id is not None)
    statement = _CART_SQL.get(key)
    if statement is None:
        genres = "array_agg(g.name)" if postgres else "json_group_array(g.name)"
        only_movie = " AND ci.movie_id = {}" if movie_id is not None else ""
        statement = _CART_SQL[key] = (
            "SELECT ci.movie_id, ci.offer, m.name, m.price, m.rental_price, m.year, ci.added_at, "  # noqa: S608 - fixed fragments only
            f"(SELECT {genres} FROM movie_genres mg JOIN genres g ON g.id = mg.genre_id "
            "WHERE mg.movie_id = ci.movie_id) AS genres "
            "FROM cart_items ci JOIN carts c ON c.id = ci.cart_id JOIN movies m ON m.id = ci.movie_id "
            f"WHERE c.user_id = {{}}{only_movie} ORDER BY ci.added_at, ci.id"
        )
    return statement


#: `_cart_sql`'s statements per (PostgreSQL?, one movie only?).
_CART_SQL: dict[tuple[bool, bool], str] = {}


def _genre_names(value: Any) -> list[str]:
    """Genre names (a JSON array as text, or an already decoded list) as a sorted list."""
    if value is None:
        return []
    names = json.loads(value) if isinstance(value, str | bytes) else value
    return sorted(str(name) for name in names if name is not None)


#: Validates a whole cart's rows in one call into pydantic-core (not one model call per row).
_ITEMS: TypeAdapter[list[CartItemOut]] = TypeAdapter(list[CartItemOut])


async def _items(user_id: int, movie_id: int | None = None) -> list[CartItemOut]:
    """The user's cart items (or the one of `movie_id`), oldest first, with sorted genre names."""
    args = [user_id] if movie_id is None else [user_id, movie_id]
    rows = await fetch(_cart_sql(movie_id), *args)
    return _ITEMS.validate_python(
        [
            {
                "movie_id": r["movie_id"],
                "offer": r["offer"],
                "name": r["name"],
                "price": offer_price(r["offer"], r["price"], r["rental_price"]),
                "genres": _genre_names(r["genres"]),
                "year": r["year"],
                "added_at": as_datetime(r["added_at"]),
            }
            for r in rows
        ]
    )


async def get_cart(actor: CurrentUser, user: UserRef | None = None) -> CartOut:
    """The actor's cart, or the named user's (staff), with each offer's current price and their `total`.

    A rental withdrawn since it was added shows `price` null and counts 0 in
    the total (ordering leaves it out as `unavailable`).

    An empty cart when there is none yet. Raises `StaffOnly` (403), `UserNotFound` (404).
    """
    user_id = await _owner_id(actor, user)
    items = await _items(user_id)
    return CartOut(user_id=user_id, items=items, total=total([i.price for i in items if i.price is not None]))


async def add_to_cart(
    actor: CurrentUser, movie_id: int, *, offer: Offer = Offer.BUY, user: UserRef | None = None
) -> CartItemOut:
    """Put a movie in the actor's cart, or the named user's (staff), to buy or to rent; the cart is made on the first add.

    Raises `StaffOnly` (403), `UserNotFound`, `MovieNotFound` (404),
    `RentalNotOffered`, `AlreadyPurchased`, `AlreadyOwned`, `AlreadyRented`,
    `InPendingOrder`, `AlreadyInCart` (409).
    """
    offer = Offer(offer)
    user_id = await _owner_id(actor, user)
    async with transaction():
        await validate_movie(movie_id, offer)
        await _ensure_cart(user_id)
        # Locked before the checks, so an order being made from this cart finishes first.
        cart_id = await lock_cart(user_id)
        assert cart_id is not None
        await validate_movie_purchase_status(user_id, movie_id, offer)
        try:
            inserted = (
                await CartItem.insert(CartItem(cart=cart_id, movie=movie_id, offer=offer.value))
                .on_conflict(target=(CartItem.cart, CartItem.movie), action="DO NOTHING")
                .returning(CartItem.id)
                .run()
            )
        except Exception as exc:
            # The movie was deleted after `validate_movie` read it (PostgreSQL, READ COMMITTED).
            if not is_foreign_key_violation(exc):
                raise
            raise MovieNotFound() from exc
        if not inserted:
            raise AlreadyInCart()
    added = await _items(user_id, movie_id)
    if not added:  # deleted (with its cart rows) right after our commit
        raise MovieNotFound()
    return added[0]


async def remove_from_cart(actor: CurrentUser, movie_id: int, *, user: UserRef | None = None) -> None:
    """Take a movie out of the actor's cart, or the named user's (staff).

    Raises `StaffOnly` (403), `UserNotFound`, `CartItemNotFound` (404).
    """
    user_id = await _owner_id(actor, user)
    async with transaction():
        cart_id = await _cart_id(user_id)
        deleted = []
        if cart_id is not None and is_valid_id(movie_id):
            deleted = (
                await CartItem.delete()
                .where((CartItem.cart == cart_id) & (CartItem.movie == movie_id))
                .returning(CartItem.id)
                .run()
            )
        if not deleted:
            raise CartItemNotFound()


async def clear_cart(actor: CurrentUser, user: UserRef | None = None) -> int:
    """Empty the actor's cart, or the named user's (staff); returns how many items left (0 for none).

    Raises `StaffOnly` (403), `UserNotFound` (404).
    """
    user_id = await _owner_id(actor, user)
    async with transaction():
        cart_id = await _cart_id(user_id)
        if cart_id is None:
            return 0
        deleted = await CartItem.delete().where(CartItem.cart == cart_id).returning(CartItem.id).run()
    return len(deleted)


async def merge_guest_cart(user_id: int, guest: Sequence[int | GuestCartItem]) -> list[int]:
    """Add a guest cart's items to the user's cart, each with its offer; returns the movie ids added, in order.

    Items are movie ids (to buy) or `{movie_id, offer}`. `Guest items - existing
    items`: movies already in the cart (whatever the offer), unknown, not
    offered for rent when rented, refused by what the user holds (`refusal`),
    or in an open order are skipped silently (docs/api.md, "Cart"); a movie
    given twice keeps its first offer. The rest go in with one bulk insert.
    Joins the caller's transaction when there is one (register/login), else
    opens its own.
    """
    offers: dict[int, Offer] = {}
    for item in guest:
        movie_id, offer = (item, Offer.BUY) if isinstance(item, int) else (item.movie_id, Offer(item.offer))
        if type(movie_id) is int and is_valid_id(movie_id):
            offers.setdefault(movie_id, offer)
    if not offers:
        return []
    async with transaction():
        wanted = list(offers)
        prices = {
            int(r["id"]): offer_price(offers[int(r["id"])], r["price"], r["rental_price"])
            for r in await Movie.select(Movie.id, Movie.price, Movie.rental_price)
            .where(Movie.id.is_in(wanted))
            .run()
        }
        known = [m for m in wanted if prices.get(m) is not None]
        if not known:
            return []
        await _ensure_cart(user_id)
        cart_id = await lock_cart(user_id)
        assert cart_id is not None
        existing = {
            int(r["movie_id"])
            for r in await CartItem.select(CartItem.movie.as_alias("movie_id"))
            .where(CartItem.cart == cart_id)
            .run()
        }
        candidates = [m for m in known if m not in existing]
        held = await holdings(user_id, candidates)
        pending = await pending_movie_ids(user_id, candidates)
        to_add = [m for m in candidates if m not in pending and refusal(offers[m], held.get(m)) is None]
        if to_add:
            await (
                CartItem.insert(*(CartItem(cart=cart_id, movie=m, offer=offers[m].value) for m in to_add))
                .on_conflict(target=(CartItem.cart, CartItem.movie), action="DO NOTHING")
                .run()
            )
    return to_add
