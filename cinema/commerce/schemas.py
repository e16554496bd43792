"""Request and response models of commerce (API.md "Cart", "Orders", "Payments").

Money fields use `cinema.commerce.money.Money`: a Decimal with two places,
sent in JSON as a string with exactly two decimals. Times are UTC-aware.
"""

from __future__ import annotations

import enum
from datetime import datetime

from pydantic import BaseModel, Field

from cinema.commerce.money import Money
from cinema.commerce.tables import OrderStatus

# --- Cart ---------------------------------------------------------------------


class CartItemIn(BaseModel):
    """Body of `POST /cart/items` and `POST /carts/{user_id}/items`."""

    movie_id: int = Field(gt=0, description="The movie to add.")


class CartItemOut(BaseModel):
    """One movie in a cart, at its current catalog price."""

    movie_id: int
    name: str
    price: Money
    genres: list[str]
    year: int
    added_at: datetime


class CartOut(BaseModel):
    """A user's cart: its items (oldest first) and their current total."""

    user_id: int
    items: list[CartItemOut]
    total: Money


# --- Orders -------------------------------------------------------------------


class RemovalReason(enum.StrEnum):
    """Why order creation left a cart movie out (API.md, `removed_items`)."""

    PURCHASED = "purchased"
    PENDING_ORDER = "pending_order"
    UNAVAILABLE = "unavailable"


class RemovedItem(BaseModel):
    movie_id: int
    reason: RemovalReason


class OrderItemOut(BaseModel):
    movie_id: int
    name: str
    price_at_order: Money


class OrderOut(BaseModel):
    """An order with its items; `total_amount` is the sum of `price_at_order`."""

    id: int
    user_id: int
    created_at: datetime
    status: OrderStatus
    total_amount: Money
    items: list[OrderItemOut]


class OrderCreated(BaseModel):
    """Answer of `POST /orders/`: the new order and the cart movies left out."""

    order: OrderOut
    removed_items: list[RemovedItem]


# --- Payments (below this line: owned by the payments work) -------------------
