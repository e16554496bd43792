"""Helpers for the payment, webhook and refund tests: signed Stripe events and table reads.

Events are built the way Stripe (and localstripe) send them: a JSON body and a
`Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "{t}.{body}" with the
webhook secret>` header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

from cinema.catalog.tables import Movie
from cinema.commerce.tables import (
    CartItem,
    Order,
    OrderItem,
    Payment,
    PaymentEvent,
    Purchase,
    RefundRequest,
)
from cinema.money import money

WEBHOOK_SECRET = "whsec_test_payments_secret"


def sign(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header value for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event_body(event_id: str, event_type: str, obj: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "api_version": "2024-06-20",
            "data": {"object": obj},
        }
    ).encode()


def intent_event(
    event_id: str,
    event_type: str,
    intent_id: str,
    amount: int,
    currency: str = "usd",
    *,
    error: dict[str, Any] | None = None,
) -> bytes:
    """A `payment_intent.*` event about `intent_id` for `amount` cents."""
    succeeded = event_type == "payment_intent.succeeded"
    return event_body(
        event_id,
        event_type,
        {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount if succeeded else 0,
            "currency": currency,
            "status": "succeeded" if succeeded else "requires_payment_method",
            "last_payment_error": error,
            "metadata": {},
        },
    )


DECLINED = {"code": "card_declined", "message": "Your card was declined."}


def refund_event(
    event_id: str, intent_id: str, amount: int, refunded_amount: int | None = None, currency: str = "usd"
) -> bytes:
    """A `charge.refunded` event for the charge of `intent_id` (fully refunded by default)."""
    refunded = amount if refunded_amount is None else refunded_amount
    return event_body(
        event_id,
        "charge.refunded",
        {
            "id": "ch_" + event_id,
            "object": "charge",
            "amount": amount,
            "amount_refunded": refunded,
            "currency": currency,
            "payment_intent": intent_id,
            "refunded": refunded >= amount,
            "refunds": {"object": "list", "data": [{"id": "re_" + event_id, "amount": refunded}]},
        },
    )


async def payment_row(payment_id: int) -> dict[str, Any]:
    row = (
        await Payment.select(
            Payment.id,
            Payment.status,
            Payment.amount,
            Payment.currency,
            Payment.external_payment_id,
            Payment.failure_reason,
            Payment.order.as_alias("order_id"),
        )
        .where(Payment.id == payment_id)
        .first()
        .run()
    )
    assert row is not None
    row["amount"] = money(row["amount"])
    return dict(row)


async def payments_of_order(order_id: int) -> list[dict[str, Any]]:
    rows = (
        await Payment.select(Payment.id, Payment.status, Payment.external_payment_id)
        .where(Payment.order == order_id)
        .order_by(Payment.id)
        .run()
    )
    return list(rows)


async def order_state(order_id: int) -> tuple[str, Decimal]:
    row = await Order.select(Order.status, Order.total_amount).where(Order.id == order_id).first().run()
    assert row is not None
    return str(row["status"]), money(row["total_amount"])


async def prices_at_order(order_id: int) -> list[Decimal]:
    rows = (
        await OrderItem.select(OrderItem.price_at_order)
        .where(OrderItem.order == order_id)
        .order_by(OrderItem.id)
        .run()
    )
    return [money(r["price_at_order"]) for r in rows]


async def purchased_movie_ids(user_id: int) -> list[int]:
    rows = await Purchase.select(Purchase.movie.as_alias("movie_id")).where(Purchase.user == user_id).run()
    return sorted(int(r["movie_id"]) for r in rows)


async def movie_counters(movie_id: int) -> tuple[int, int]:
    """(purchases_count, popularity) of a movie."""
    row = (
        await Movie.select(Movie.purchases_count, Movie.popularity).where(Movie.id == movie_id).first().run()
    )
    assert row is not None
    return int(row["purchases_count"]), int(row["popularity"])


async def cart_size(cart_id: int) -> int:
    return int(await CartItem.count().where(CartItem.cart == cart_id).run())


async def event_count() -> int:
    return int(await PaymentEvent.count().run())


async def refund_requests_of(order_id: int) -> list[dict[str, Any]]:
    rows = (
        await RefundRequest.select(
            RefundRequest.id,
            RefundRequest.status,
            RefundRequest.external_refund_id,
            RefundRequest.decided_at,
            RefundRequest.decided_by.as_alias("decided_by"),
        )
        .where(RefundRequest.order == order_id)
        .order_by(RefundRequest.id)
        .run()
    )
    return list(rows)


def subjects(messages: list[Any]) -> list[str]:
    return [str(m["Subject"]) for m in messages]
