"""Orders: made from the cart, listed, viewed, canceled (docs/api.md, "Orders").

Rules:
- `create_order` turns the actor's cart into one PENDING order, each item
  with its offer (`buy` or `rent`, `cinema.commerce.offers`). Cart movies
  the user already owns for good (`purchased`; entitlements decide, as for
  the cart), rents while a rental of them runs (`rented`), that sit in
  another open order (`pending_order`) or that left the catalog, or are no
  longer offered so (`unavailable`) are left out and reported as
  `removed_items`; the ordered movies leave the cart, and so do the
  purchased and unavailable ones (they can never be ordered). A movie
  priced 0.00 is not for sale: `unavailable` too (an order of it could never
  be paid). Should a price drop to 0.00 after the order was made, paying
  answers 409 `nothing_to_pay` and the owner cancels the order, which frees
  its movies. Movies in an open order stay in the cart, since that order may
  yet be canceled, and so do rentals refused as `rented` (the movie can be
  rented again once the rental ends). Nothing left to order: 400 `empty_cart` and nothing changes.
- `total_amount` is the exact Decimal sum of the offers' current prices
  (`price` to buy, `rental_price` to rent), each recorded with the item's
  `offer` as `price_at_order`.
- Concurrency: the user's cart row is locked first (`carts.lock_cart`), so
  simultaneous requests run one after the other and the later ones find the
  cart empty.
- Who may see or cancel an order: `cinema.commerce.access`. Status moves:
  `cinema.commerce.statuses`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from piccolo.custom_types import Combinable

from cinema.accounts.actor import CurrentUser
from cinema.catalog.tables import Movie
from cinema.commerce.access import ORDER_CANCELERS, ORDER_VIEWERS, owner_or, require_role
from cinema.commerce.carts import (
    UserRef,
    is_valid_id,
    lock_cart,
    pending_movie_ids,
    refusal,
    validate_user,
)
from cinema.commerce.errors import AlreadyPurchased, EmptyCart, OrderNotFound, RefundRequired
from cinema.commerce.filters import created_between
from cinema.commerce.offers import Offer, offer_price
from cinema.commerce.payments import cancel_open_payments
from cinema.commerce.rows import lock_order_of, set_order_status
from cinema.commerce.schemas import (
    OrderCreated,
    OrderItemOut,
    OrderOut,
    RemovalReason,
    RemovedItem,
)
from cinema.commerce.statuses import REFUNDABLE_ORDERS, OrderStatus
from cinema.commerce.tables import CartItem, Order, OrderItem
from cinema.db import transaction
from cinema.entitlements.errors import AlreadyOwned
from cinema.entitlements.service import holdings
from cinema.money import money, total
from cinema.pagination import Page, PageParams

# --- Reading ----------------------------------------------------------------


async def load_orders(order_ids: list[int]) -> list[OrderOut]:
    """The orders with these ids and their items, in the order of `order_ids` (missing ids skipped)."""
    if not order_ids:
        return []
    rows = (
        await Order.select(
            Order.id,
            Order.user.as_alias("user_id"),
            Order.created_at,
            Order.status,
            Order.total_amount,
        )
        .where(Order.id.is_in(order_ids))
        .run()
    )
    item_rows = (
        await OrderItem.select(
            OrderItem.order.as_alias("order_id"),
            OrderItem.movie.as_alias("movie_id"),
            OrderItem.movie.name.as_alias("name"),
            OrderItem.offer,
            OrderItem.price_at_order.as_alias("price_at_order"),
        )
        .where(OrderItem.order.is_in(order_ids))
        .order_by(OrderItem.id)
        .run()
    )
    items: dict[int, list[OrderItemOut]] = defaultdict(list)
    for r in item_rows:
        items[int(r["order_id"])].append(
            OrderItemOut(
                movie_id=int(r["movie_id"]),
                name=r["name"],
                offer=Offer(r["offer"]),
                price_at_order=money(r["price_at_order"]),
            )
        )
    by_id = {
        int(r["id"]): OrderOut(
            id=int(r["id"]),
            user_id=int(r["user_id"]),
            created_at=r["created_at"],
            status=OrderStatus(r["status"]),
            total_amount=money(r["total_amount"]),
            items=items.get(int(r["id"]), []),
        )
        for r in rows
    }
    return [by_id[i] for i in order_ids if i in by_id]


async def _page(where: Combinable | None, params: PageParams) -> Page[OrderOut]:
    """Orders matching `where`, newest first (ties: higher id first), as a page."""
    count_query = Order.count()
    id_query = Order.select(Order.id)
    if where is not None:
        count_query = count_query.where(where)
        id_query = id_query.where(where)
    total_count = await count_query.run()
    rows = (
        await id_query.order_by(Order.created_at, ascending=False)
        .order_by(Order.id, ascending=False)
        .limit(params.per_page)
        .offset(params.offset)
        .run()
    )
    return Page[OrderOut].build(await load_orders([int(r["id"]) for r in rows]), params, total_count)


async def list_my_orders(actor: CurrentUser, params: PageParams) -> Page[OrderOut]:
    """The actor's own orders, newest first, paged (`GET /orders/`)."""
    return await _page(Order.user == actor.id, params)


async def list_orders(
    actor: CurrentUser,
    *,
    user: UserRef | None = None,
    status: OrderStatus | None = None,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
    params: PageParams | None = None,
) -> Page[OrderOut]:
    """Every user's orders, newest first, filtered (`GET /orders/admin`, `cinema orders list`): staff only.

    `user`: an id (a filter; an unknown id gives an empty page) or, from the CLI,
    an email (404 `user_not_found` when unknown). `date_from` / `date_to`: see
    `filters.created_between`. Raises `StaffOnly` (403), `InvalidDateRange`,
    `InvalidDate`.
    """
    require_role(actor, ORDER_VIEWERS)
    params = params or PageParams()
    clauses: list[Combinable] = []
    if user is not None:
        user_id = user if isinstance(user, int) and is_valid_id(user) else await validate_user(user)
        clauses.append(Order.user == user_id)
    if status is not None:
        clauses.append(Order.status == OrderStatus(status).value)
    clauses += created_between(Order.created_at, date_from, date_to)
    where: Combinable | None = None
    for clause in clauses:
        where = clause if where is None else where & clause
    return await _page(where, params)


async def get_order(actor: CurrentUser, order_id: int) -> OrderOut:
    """One order with its items, for its owner or MODERATOR and above.

    Raises `OrderNotFound` (404) for an unknown order or one the actor may not see.
    """
    found = await load_orders([order_id]) if is_valid_id(order_id) else []
    if not found or not owner_or(actor, found[0].user_id, ORDER_VIEWERS):
        raise OrderNotFound()
    return found[0]


# --- Writing ----------------------------------------------------------------


async def create_order(actor: CurrentUser) -> OrderCreated:
    """Make a PENDING order from the actor's cart (`POST /orders/`).

    Returns the order and the `removed_items` left out (`purchased`,
    `pending_order`, `unavailable`). Raises `EmptyCart` (400, with
    `removed_items` in the body) when nothing is left to order; then nothing
    changes. Safe to call concurrently: see the module docstring.
    """
    user_id = actor.id
    async with transaction():
        cart_id = await lock_cart(user_id)
        rows: list[dict[str, Any]] = []
        if cart_id is not None:
            rows = (
                await CartItem.select(CartItem.id, CartItem.movie.as_alias("movie_id"), CartItem.offer)
                .where(CartItem.cart == cart_id)
                .order_by(CartItem.added_at)
                .order_by(CartItem.id)
                .run()
            )
        offers = {int(r["movie_id"]): Offer(r["offer"]) for r in rows}
        movie_ids = list(offers)
        prices = {
            int(r["id"]): offer_price(offers[int(r["id"])], r["price"], r["rental_price"])
            for r in (
                await Movie.select(Movie.id, Movie.price, Movie.rental_price)
                .where(Movie.id.is_in(movie_ids))
                .run()
                if movie_ids
                else []
            )
        }
        held = await holdings(user_id, movie_ids)
        pending = await pending_movie_ids(user_id, movie_ids)

        removed: list[RemovedItem] = []
        ordered: list[int] = []
        for movie_id in movie_ids:
            price = prices.get(movie_id)
            refused = refusal(offers[movie_id], held.get(movie_id))
            if price is None or price <= 0:
                removed.append(RemovedItem(movie_id=movie_id, reason=RemovalReason.UNAVAILABLE))
            elif refused is not None:
                owned = refused is AlreadyPurchased or refused is AlreadyOwned
                reason = RemovalReason.PURCHASED if owned else RemovalReason.RENTED
                removed.append(RemovedItem(movie_id=movie_id, reason=reason))
            elif movie_id in pending:
                removed.append(RemovedItem(movie_id=movie_id, reason=RemovalReason.PENDING_ORDER))
            else:
                ordered.append(movie_id)
        if not ordered:
            raise EmptyCart(removed_items=[r.model_dump(mode="json") for r in removed])

        chosen = {m: price for m in ordered if (price := prices[m]) is not None}
        order = Order(
            user=user_id,
            status=OrderStatus.PENDING.value,
            total_amount=total(list(chosen.values())),
        )
        await order.save()
        await OrderItem.insert(
            *(
                OrderItem(order=order.id, movie=m, offer=offers[m].value, price_at_order=chosen[m])
                for m in ordered
            )
        ).run()
        # Movies in an open order, or rented now, may be ordered later: they stay.
        staying = (RemovalReason.PENDING_ORDER, RemovalReason.RENTED)
        leaving = ordered + [r.movie_id for r in removed if r.reason not in staying]
        await CartItem.delete().where((CartItem.cart == cart_id) & CartItem.movie.is_in(leaving)).run()
        order_id = int(order.id)
    created = await load_orders([order_id])
    return OrderCreated(order=created[0], removed_items=removed)


async def cancel_order(actor: CurrentUser, order_id: int) -> OrderOut:
    """Cancel a PENDING order (`PATCH /orders/{id}/cancel`): its owner, or an ADMIN.

    The order row is locked first (`rows.lock_order`, the lock every payment
    write takes), so a cancel and a payment of one order run one at a time; the
    order's live gateway intents are canceled with it
    (`payments.cancel_open_payments`), so a stale checkout can no longer pay it.

    Raises `OrderNotFound` (404; also for an order the actor may not cancel),
    `RefundRequired` (409; a paid order is canceled through a refund),
    `OrderNotPending` (409; already canceled), `PaymentGatewayError` (502)
    when an intent cannot be canceled (then nothing changes).
    """
    async with transaction():
        if not is_valid_id(order_id):
            raise OrderNotFound()
        order = await lock_order_of(actor, order_id, staff=ORDER_CANCELERS)
        if order["status"] in REFUNDABLE_ORDERS:
            raise RefundRequired()
        await set_order_status(order, OrderStatus.CANCELED)
        await cancel_open_payments(order_id)
    return (await load_orders([order_id]))[0]
