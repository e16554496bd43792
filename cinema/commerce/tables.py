"""Commerce tables: carts, orders, purchases, payments, refunds, gateway events.

Money columns are Decimal(10,2) in the shop currency (`CURRENCY`); gateway
amounts in integer minor units (cents) are derived, never stored as floats.
Orders and payments are financial records: deleting a user or a movie that
has them is refused (`OnDelete.restrict`).
"""

from __future__ import annotations

from piccolo.columns import (
    ForeignKey,
    Numeric,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.readable import Readable
from piccolo.table import Table

from cinema.accounts.tables import User
from cinema.catalog.tables import Movie
from cinema.commerce.offers import Offer
from cinema.commerce.statuses import OrderStatus, PaymentStatus, RefundStatus

__all__ = [
    "Cart",
    "CartItem",
    "Offer",
    "Order",
    "OrderItem",
    "OrderStatus",
    "Payment",
    "PaymentEvent",
    "PaymentItem",
    "PaymentStatus",
    "Purchase",
    "RefundRequest",
    "RefundStatus",
]


class Cart(Table, tablename="carts"):
    """One per user, created on the first add."""

    id: Serial

    user = ForeignKey(User, unique=True, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    created_at = Timestamptz(default=TimestamptzNow())


class CartItem(Table, tablename="cart_items"):
    id: Serial
    cart = ForeignKey(Cart, null=False, on_delete=OnDelete.cascade, db_column_name="cart_id")
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="movie_id")
    #: `buy` or `rent` (migration 0011).
    offer = Varchar(length=8, choices=Offer, default=Offer.BUY)
    added_at = Timestamptz(default=TimestamptzNow())
    # UNIQUE(cart_id, movie_id) as unique index "cart_items_unique": migration 0003.


class Order(Table, tablename="orders"):
    id: Serial
    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, index=True, db_column_name="user_id")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    status = Varchar(length=20, choices=OrderStatus, default=OrderStatus.PENDING, index=True)
    total_amount = Numeric(digits=(10, 2))

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="Order #%s (%s, %s)", columns=[cls.id, cls.status, cls.total_amount])


class OrderItem(Table, tablename="order_items"):
    id: Serial
    order = ForeignKey(Order, null=False, on_delete=OnDelete.cascade, db_column_name="order_id")
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.restrict, index=True, db_column_name="movie_id")
    #: `buy` or `rent` (migration 0011); `price_at_order` is that offer's price.
    offer = Varchar(length=8, choices=Offer, default=Offer.BUY)
    price_at_order = Numeric(digits=(10, 2))
    # UNIQUE(order_id, movie_id) as unique index "order_items_unique": migration 0003.


class Purchase(Table, tablename="purchases"):
    """A movie the user owns: written when its order is paid, removed by a refund."""

    id: Serial

    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, db_column_name="user_id")
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.restrict, index=True, db_column_name="movie_id")
    order = ForeignKey(Order, null=False, on_delete=OnDelete.restrict, db_column_name="order_id")
    created_at = Timestamptz(default=TimestamptzNow())
    # UNIQUE(user_id, movie_id) as unique index "purchases_unique": migration 0003.


class Payment(Table, tablename="payments"):
    """One attempt to pay an order through a gateway (a Stripe PaymentIntent)."""

    id: Serial

    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, index=True, db_column_name="user_id")
    order = ForeignKey(Order, null=False, on_delete=OnDelete.restrict, index=True, db_column_name="order_id")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)
    status = Varchar(length=20, choices=PaymentStatus, default=PaymentStatus.PENDING, index=True)
    amount = Numeric(digits=(10, 2))
    currency = Varchar(length=3)
    external_payment_id = Varchar(length=255, unique=True, null=True, default=None)
    client_secret = Varchar(length=255, null=True, default=None)
    failure_reason = Text(null=True, default=None)

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="Payment #%s (%s, %s)", columns=[cls.id, cls.status, cls.amount])


class PaymentItem(Table, tablename="payment_items"):
    id: Serial
    payment = ForeignKey(Payment, null=False, on_delete=OnDelete.cascade, db_column_name="payment_id")
    order_item = ForeignKey(
        OrderItem, null=False, on_delete=OnDelete.restrict, db_column_name="order_item_id"
    )
    price_at_payment = Numeric(digits=(10, 2))


class RefundRequest(Table, tablename="refund_requests"):
    """An owner's request to refund a paid order; an admin approves or rejects it."""

    id: Serial

    order = ForeignKey(Order, null=False, on_delete=OnDelete.restrict, index=True, db_column_name="order_id")
    user = ForeignKey(User, null=False, on_delete=OnDelete.restrict, db_column_name="user_id")
    payment = ForeignKey(Payment, null=True, on_delete=OnDelete.restrict, db_column_name="payment_id")
    reason = Text()
    status = Varchar(length=20, choices=RefundStatus, default=RefundStatus.REQUESTED, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null, db_column_name="decided_by_id")
    external_refund_id = Varchar(length=255, null=True, default=None)
    #: The admin's note when deciding (sent to the owner with a rejection).
    decision_note = Text(null=True, default=None)


class PaymentEvent(Table, tablename="payment_events"):
    """A gateway event applied once: redeliveries are recognised by `event_id`."""

    id: Serial

    event_id = Varchar(length=255, unique=True)
    type = Varchar(length=100)
    payment = ForeignKey(Payment, null=True, on_delete=OnDelete.set_null, db_column_name="payment_id")
    received_at = Timestamptz(default=TimestamptzNow())
