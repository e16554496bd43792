"""HTTP routes for orders (docs/api.md, "Orders"). Thin: authenticate, call one service function, render.

`/orders/admin` is declared before `/orders/{order_id}` so it is never taken
for an order id. (`POST /orders/{order_id}/refund` lives with the payments routes.)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from cinema.api.deps import Paging, User
from cinema.api.errors import error_responses
from cinema.clock import IsoDateOrDatetime
from cinema.commerce import orders
from cinema.commerce.errors import (
    EmptyCart,
    InvalidDateRange,
    OrderNotFound,
    OrderNotPending,
    RefundRequired,
    StaffOnly,
)
from cinema.commerce.schemas import OrderCreated, OrderOut
from cinema.commerce.statuses import OrderStatus
from cinema.db import MAX_ID
from cinema.pagination import Page

router = APIRouter(tags=["orders"])

#: The staff lists' date filters (orders and payments): a date is a whole UTC day.
DateFrom = Annotated[
    IsoDateOrDatetime | None,
    Query(description="Created at or after: a date (UTC day) or an ISO 8601 datetime"),
]
DateTo = Annotated[
    IsoDateOrDatetime | None,
    Query(description="Created at or before: a date (whole UTC day) or an ISO 8601 datetime"),
]
OrderId = Annotated[int, Path(ge=1, le=MAX_ID, description="Order id")]


@router.post(
    "/orders",
    response_model=OrderCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Order the movies in my cart",
    responses=error_responses(EmptyCart),
)
async def create_order(user: User) -> OrderCreated:
    """Makes a pending order of the cart's movies at today's prices.

    Movies already bought, in another pending order, or gone from the catalog
    are left out and listed in `removed_items` with the reason.
    """
    return await orders.create_order(user)


@router.get("/orders", response_model=Page[OrderOut], summary="My orders, newest first")
async def my_orders(user: User, paging: Paging) -> Page[OrderOut]:
    return await orders.list_my_orders(user, paging)


@router.get(
    "/orders/admin",
    response_model=Page[OrderOut],
    summary="All orders (moderators)",
    responses=error_responses(InvalidDateRange, StaffOnly),
)
async def all_orders(
    user: User,
    paging: Paging,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this user's orders")] = None,
    status: Annotated[OrderStatus | None, Query(description="pending, paid or canceled")] = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Page[OrderOut]:
    return await orders.list_orders(
        user, user=user_id, status=status, date_from=date_from, date_to=date_to, params=paging
    )


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    summary="One order (owner or moderators)",
    responses=error_responses(OrderNotFound),
)
async def get_order(order_id: OrderId, user: User) -> OrderOut:
    return await orders.get_order(user, order_id)


@router.patch(
    "/orders/{order_id}/cancel",
    response_model=OrderOut,
    summary="Cancel my pending order",
    responses=error_responses(OrderNotFound, RefundRequired, OrderNotPending),
)
async def cancel_order(order_id: OrderId, user: User) -> OrderOut:
    return await orders.cancel_order(user, order_id)
