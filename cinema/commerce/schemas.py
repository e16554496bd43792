"""Request and response models of commerce (docs/api.md, "Cart", "Orders" and "Payments").

Money fields use `cinema.money.Money`: a Decimal with two places,
sent in JSON as a string with exactly two decimals. Times are UTC-aware.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from cinema.commerce.offers import Offer
from cinema.commerce.statuses import OrderStatus, PaymentStatus, RefundStatus
from cinema.db import MAX_ID
from cinema.money import Money
from cinema.text import NoControlCharacters

# --- Cart ---------------------------------------------------------------------


class CartItemIn(BaseModel):
    """Body of `POST /cart/items` and `POST /carts/{user_id}/items`."""

    movie_id: int = Field(gt=0, le=MAX_ID, description="The movie to add.")
    offer: Offer = Field(
        Offer.BUY, description="`buy` (the default) or `rent` (only for a movie with a `rental_price`)."
    )


class CartItemOut(BaseModel):
    """One movie in a cart, with its offer at the offer's current catalog price."""

    movie_id: int
    offer: Offer
    name: str
    price: Money | None = Field(
        description="The offer's price today (`price`, or `rental_price` to rent); null: no longer offered."
    )
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
    """Why order creation left a cart movie out (`removed_items`, docs/api.md, "Orders")."""

    PURCHASED = "purchased"
    #: Rented while a rental of the movie still runs (it stays in the cart).
    RENTED = "rented"
    PENDING_ORDER = "pending_order"
    UNAVAILABLE = "unavailable"


class RemovedItem(BaseModel):
    movie_id: int
    reason: RemovalReason


class OrderItemOut(BaseModel):
    movie_id: int
    name: str
    offer: Offer = Field(description="`buy` or `rent`; `price_at_order` is that offer's price.")
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


# --- Payments -----------------------------------------------------------------


class PriceChange(BaseModel):
    """A movie whose price moved between ordering and paying; the order now uses `new_price`."""

    movie_id: int
    name: str
    old_price: Money
    new_price: Money


class PaymentCreated(BaseModel):
    """Answer of `POST /payments/{order_id}`: the pending payment and its PaymentIntent.

    The client confirms the intent with `client_secret` (Stripe.js, or the
    sandbox endpoint). `amount` is the order total after price revalidation.
    """

    payment_id: int
    order_id: int
    status: PaymentStatus
    amount: Money
    currency: str
    client_secret: str
    external_payment_id: str
    price_changes: list[PriceChange]


class PaymentItemOut(BaseModel):
    movie_id: int
    name: str
    offer: Offer = Field(description="`buy` or `rent`.")
    price_at_payment: Money


class PaymentOut(BaseModel):
    """A payment with its items. `failure_reason` says why a payment was canceled."""

    id: int
    user_id: int
    order_id: int
    created_at: datetime
    status: PaymentStatus
    amount: Money
    currency: str
    external_payment_id: str | None
    failure_reason: str | None
    items: list[PaymentItemOut]


class RefundRequestIn(BaseModel):
    """Body of `POST /orders/{order_id}/refund`."""

    #: Stripped first, so a reason of only spaces is too short (422).
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
        NoControlCharacters(multiline=True),
    ] = Field(description="Why the owner wants the money back (surrounding whitespace removed).")


class RefundRequestOut(BaseModel):
    """A refund request: `requested` until an admin refunds (`refunded`) or rejects it."""

    id: int
    order_id: int
    user_id: int
    payment_id: int | None
    reason: str
    status: RefundStatus
    created_at: datetime
    decided_at: datetime | None
    external_refund_id: str | None
    #: The admin's note when the request was decided (shown to the owner on rejection).
    decision_note: str | None = None


class WebhookReceipt(BaseModel):
    """Answer to a gateway event: `outcome` is `applied`, `duplicate`, `ignored`,
    `mismatch` (amount or currency differ; nothing changed) or `unknown_payment`."""

    received: bool = True
    event_id: str
    outcome: str
