"""Orders: made from the cart, listed, viewed, canceled (API.md "Orders").

Rules (issue 4):
- `create_order` turns the caller's cart into one PENDING order. Cart movies
  the user already owns (`purchased`), that sit in another pending order
  (`pending_order`) or that left the catalog (`unavailable`) are left out and
  reported as `removed_items`; the ordered movies leave the cart, and so do
  the purchased and unavailable ones (they can never be ordered). A movie
  priced 0.00 is not for sale: `unavailable` too (an order of it could never
  be paid). Should a price drop to 0.00 after the order was made, paying
  answers 409 `nothing_to_pay` and the owner cancels the order
  (`PATCH /orders/{id}/cancel`), which frees its movies. Movies in a
  pending order stay in the cart, since that order may yet be canceled.
  Nothing left to order: 400 `empty_cart` and nothing changes.
- `total_amount` is the exact Decimal sum of the movies' current prices, each
  recorded as `price_at_order`.
- Concurrency: on PostgreSQL the user's cart row is locked
  (`SELECT ... FOR UPDATE`) first, so simultaneous requests run one after the
  other and the later ones find the cart empty; on SQLite `transaction()` is
  BEGIN IMMEDIATE, which serialises writers the same way.
- Another user's order is 404 (do not reveal it exists); MODERATOR and above may
  view any order; only the owner (or the CLI operator) cancels.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from piccolo.custom_types import Combinable

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.catalog.tables import Movie
from cinema.commerce.carts import (
    UserRef,
    is_valid_id,
    lock_cart,
    pending_movie_ids,
    purchased_movie_ids,
    validate_user,
)
from cinema.commerce.filters import utc_bound
from cinema.commerce.schemas import (
    OrderCreated,
    OrderItemOut,
    OrderOut,
    RemovalReason,
    RemovedItem,
)
from cinema.commerce.tables import CartItem, Order, OrderItem, OrderStatus
from cinema.db import transaction
from cinema.errors import Conflict, InvalidInput, NotFound
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
                movie_id=int(r["movie_id"]), name=r["name"], price_at_order=money(r["price_at_order"])
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


async def list_my_orders(user_id: int, params: PageParams) -> Page[OrderOut]:
    """The user's own orders, newest first, paged (`GET /orders/`)."""
    return await _page(Order.user == user_id, params)


async def list_orders(
    *,
    user: UserRef | None = None,
    status: OrderStatus | None = None,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
    params: PageParams | None = None,
) -> Page[OrderOut]:
    """Every user's orders, newest first, filtered (`GET /orders/admin`, `cinema orders list`).

    `user`: an id (a filter; an unknown id gives an empty page) or, from the CLI,
    an email (404 `user_not_found` when unknown). `date_from` / `date_to`: dates
    (whole UTC days, both inclusive) or datetimes (`created_at >= date_from`,
    `created_at <= date_to`). Raises InvalidInput (`invalid_date_range`) when
    `date_from` is after `date_to`.
    """
    params = params or PageParams()
    clauses: list[Combinable] = []
    if user is not None:
        user_id = user if isinstance(user, int) and is_valid_id(user) else await validate_user(user)
        clauses.append(Order.user == user_id)
    if status is not None:
        clauses.append(Order.status == OrderStatus(status).value)
    start = utc_bound(date_from, end=False) if date_from is not None else None
    if start is not None:
        clauses.append(Order.created_at >= start)
    if date_to is not None:
        finish = utc_bound(date_to, end=True)
        inclusive = isinstance(date_to, datetime)  # a date's bound is the next day's start, exclusive
        if start is not None and (finish < start if inclusive else finish <= start):
            raise InvalidInput("date_from must not be after date_to.", code="invalid_date_range")
        clauses.append(Order.created_at <= finish if inclusive else Order.created_at < finish)
    where: Combinable | None = None
    for clause in clauses:
        where = clause if where is None else where & clause
    return await _page(where, params)


async def get_order(order_id: int, actor: CurrentUser | None = None) -> OrderOut:
    """One order with its items; the owner, MODERATOR and above, or the operator (`actor=None`).

    Raises NotFound (`order_not_found`) for an unknown order or another user's.
    """
    found = await load_orders([order_id]) if is_valid_id(order_id) else []
    if not found or not _may_view(actor, found[0].user_id):
        raise NotFound(f"There is no order {order_id}.", code="order_not_found")
    return found[0]


def _may_view(actor: CurrentUser | None, owner_id: int) -> bool:
    return actor is None or actor.id == owner_id or actor.has_group(GroupName.MODERATOR)


# --- Writing ----------------------------------------------------------------


async def create_order(user_id: int) -> OrderCreated:
    """Make a PENDING order from the user's cart (`POST /orders/`).

    Returns the order and the `removed_items` left out (`purchased`,
    `pending_order`, `unavailable`). Raises InvalidInput (`empty_cart`, 400,
    with `removed_items` in the body) when nothing is left to order; then
    nothing changes. Safe to call concurrently: see the module docstring.
    """
    async with transaction():
        cart_id = await lock_cart(user_id)
        rows: list[dict[str, Any]] = []
        if cart_id is not None:
            rows = (
                await CartItem.select(CartItem.id, CartItem.movie.as_alias("movie_id"))
                .where(CartItem.cart == cart_id)
                .order_by(CartItem.added_at)
                .order_by(CartItem.id)
                .run()
            )
        movie_ids = [int(r["movie_id"]) for r in rows]
        prices = {
            int(r["id"]): money(r["price"])
            for r in (
                await Movie.select(Movie.id, Movie.price).where(Movie.id.is_in(movie_ids)).run()
                if movie_ids
                else []
            )
        }
        purchased = await purchased_movie_ids(user_id, movie_ids)
        pending = await pending_movie_ids(user_id, movie_ids)

        removed: list[RemovedItem] = []
        ordered: list[int] = []
        for movie_id in movie_ids:
            if movie_id not in prices or prices[movie_id] <= 0:
                removed.append(RemovedItem(movie_id=movie_id, reason=RemovalReason.UNAVAILABLE))
            elif movie_id in purchased:
                removed.append(RemovedItem(movie_id=movie_id, reason=RemovalReason.PURCHASED))
            elif movie_id in pending:
                removed.append(RemovedItem(movie_id=movie_id, reason=RemovalReason.PENDING_ORDER))
            else:
                ordered.append(movie_id)
        if not ordered:
            raise InvalidInput(
                "There is nothing in the cart to order.",
                code="empty_cart",
                removed_items=[r.model_dump(mode="json") for r in removed],
            )

        order = Order(
            user=user_id,
            status=OrderStatus.PENDING.value,
            total_amount=total([prices[m] for m in ordered]),
        )
        await order.save()
        await OrderItem.insert(
            *(OrderItem(order=order.id, movie=m, price_at_order=prices[m]) for m in ordered)
        ).run()
        leaving = ordered + [r.movie_id for r in removed if r.reason is not RemovalReason.PENDING_ORDER]
        await CartItem.delete().where((CartItem.cart == cart_id) & CartItem.movie.is_in(leaving)).run()
        order_id = int(order.id)
    created = await load_orders([order_id])
    return OrderCreated(order=created[0], removed_items=removed)


async def cancel_order(order_id: int, actor: CurrentUser | None = None) -> OrderOut:
    """Cancel a PENDING order (`PATCH /orders/{id}/cancel`): owner only, or the operator.

    The order row is locked first (`payments.lock_order`, the lock every payment
    write takes), so a cancel and a payment of one order run one at a time; the
    order's pending payments and their gateway intents are canceled with it
    (`payments.cancel_open_payments`), so a stale checkout can no longer pay it.

    Raises NotFound (`order_not_found`; also for another user's order),
    Conflict `refund_required` (409; a paid order is canceled through a refund
    request) or `not_pending` (409; already canceled), PaymentGatewayError
    (502) when an intent cannot be canceled (then nothing changes).
    """
    # Imported here: payments may come to use this module's readers (no import cycle).
    from cinema.commerce.payments import cancel_open_payments, lock_order

    async with transaction():
        row = await lock_order(order_id) if is_valid_id(order_id) else None
        if row is None or (actor is not None and actor.id != int(row["user_id"])):
            raise NotFound(f"There is no order {order_id}.", code="order_not_found")
        status = OrderStatus(row["status"])
        if status is OrderStatus.PAID:
            raise Conflict(
                "This order is paid: ask for a refund instead (POST /orders/{id}/refund).",
                code="refund_required",
            )
        if status is not OrderStatus.PENDING:
            raise Conflict("Only a pending order can be canceled; this one is canceled.", code="not_pending")
        await cancel_open_payments(order_id)
        await Order.update({Order.status: OrderStatus.CANCELED.value}).where(Order.id == order_id).run()
    return (await load_orders([order_id]))[0]
