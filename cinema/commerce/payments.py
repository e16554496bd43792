"""Payments: creating the PaymentIntent for a pending order, and the payment views.

Rules (API.md "Payments", issue 4):
- `create_payment` revalidates prices (each `price_at_order` and the order
  total follow today's catalog price; the answer lists `price_changes`), then
  creates one PaymentIntent for the exact total in minor units, with an
  idempotency key derived from the payment row.
- Calling it again for the same pending order returns the same intent: the
  product looks up its own pending payment first (emulators do not honour
  idempotency keys), under a lock on the order row, so two simultaneous calls
  make one intent. If the total changed since, the old intent is canceled at
  the gateway and a new payment replaces it.
- One order, one charge: before a new intent is made, every earlier intent of
  the order that could still be paid is canceled at the gateway, including a
  declined one (Stripe lets a customer retry a declined intent); when a
  payment succeeds, the order's other live intents are canceled too
  (`cancel_live_intents`). A payment whose intent was canceled at the gateway
  is `canceled` with `client_secret` NULL; a declined one keeps its secret
  until then. Should a second success still arrive (a race at Stripe), it is
  recorded as `successful` with a `failure_reason` telling admins to refund it
  (see `events`).
- The gateway is called inside the transaction: a gateway failure raises
  `PaymentGatewayError` (502) and rolls everything back.

Shared helpers for the event and refund modules (`lock_order`, `lock_payment`,
`payment_out`) live here too.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cinema.catalog.tables import Movie
from cinema.clock import utcnow
from cinema.commerce.filters import utc_bound
from cinema.commerce.gateways import get_gateway
from cinema.commerce.schemas import PaymentCreated, PaymentItemOut, PaymentOut, PriceChange
from cinema.commerce.tables import (
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentItem,
    PaymentStatus,
)
from cinema.config import get_settings
from cinema.db import locked, transaction
from cinema.errors import Conflict, InvalidInput, NotFound, PaymentGatewayError
from cinema.money import money, to_minor_units, total
from cinema.pagination import Page, PageParams

log = logging.getLogger("cinema.payments")

_ORDER_COLUMNS = (
    Order.id,
    Order.user.as_alias("user_id"),
    Order.status,
    Order.total_amount,
)

_PAYMENT_COLUMNS = (
    Payment.id,
    Payment.user.as_alias("user_id"),
    Payment.order.as_alias("order_id"),
    Payment.created_at,
    Payment.status,
    Payment.amount,
    Payment.currency,
    Payment.external_payment_id,
    Payment.client_secret,
    Payment.failure_reason,
)


async def lock_order(order_id: int) -> dict[str, Any] | None:
    """The order row (`id, user_id, status, total_amount`), locked until the transaction ends.

    Every payment write locks the order first, then its payments, so creation,
    events and refunds of one order run one at a time and never deadlock.
    """
    row: dict[str, Any] | None = (
        await locked(Order.select(*_ORDER_COLUMNS).where(Order.id == order_id), "NO KEY UPDATE").first().run()
    )
    if row is not None:
        row["total_amount"] = money(row["total_amount"])
    return row


async def lock_payment(payment_id: int) -> dict[str, Any] | None:
    """The payment row (see `_PAYMENT_COLUMNS`), locked; lock its order first."""
    row: dict[str, Any] | None = (
        await locked(Payment.select(*_PAYMENT_COLUMNS).where(Payment.id == payment_id), "NO KEY UPDATE")
        .first()
        .run()
    )
    if row is not None:
        row["amount"] = money(row["amount"])
    return row


async def _payment_items(payment_ids: list[int]) -> dict[int, list[PaymentItemOut]]:
    if not payment_ids:
        return {}
    rows = (
        await PaymentItem.select(
            PaymentItem.payment.as_alias("payment_id"),
            PaymentItem.order_item._.movie.as_alias("movie_id"),
            PaymentItem.order_item._.movie._.name.as_alias("name"),
            PaymentItem.price_at_payment,
        )
        .where(PaymentItem.payment.is_in(payment_ids))
        .order_by(PaymentItem.id)
        .run()
    )
    items: dict[int, list[PaymentItemOut]] = {pid: [] for pid in payment_ids}
    for row in rows:
        items[int(row["payment_id"])].append(
            PaymentItemOut(
                movie_id=int(row["movie_id"]),
                name=str(row["name"]),
                price_at_payment=money(row["price_at_payment"]),
            )
        )
    return items


def _out(row: dict[str, Any], items: list[PaymentItemOut]) -> PaymentOut:
    return PaymentOut(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        order_id=int(row["order_id"]),
        created_at=row["created_at"],
        status=PaymentStatus(row["status"]),
        amount=money(row["amount"]),
        currency=str(row["currency"]),
        external_payment_id=row["external_payment_id"],
        failure_reason=row["failure_reason"],
        items=items,
    )


async def payment_out(payment_id: int) -> PaymentOut:
    """The payment with its items. Raises `NotFound` (`payment_not_found`)."""
    row = await Payment.select(*_PAYMENT_COLUMNS).where(Payment.id == payment_id).first().run()
    if row is None:
        raise NotFound("Payment not found.", code="payment_not_found")
    return _out(row, (await _payment_items([payment_id]))[payment_id])


async def _revalidate_prices(order_id: int) -> tuple[list[dict[str, Any]], list[PriceChange], Decimal]:
    """Move each `price_at_order` to today's movie price; returns (items, changes, new total)."""
    items: list[dict[str, Any]] = (
        await OrderItem.select(
            OrderItem.id,
            OrderItem.movie.as_alias("movie_id"),
            OrderItem.movie._.name.as_alias("name"),
            OrderItem.movie._.price.as_alias("price"),
            OrderItem.price_at_order,
        )
        .where(OrderItem.order == order_id)
        .order_by(OrderItem.id)
        .run()
    )
    changes: list[PriceChange] = []
    for item in items:
        old, new = money(item["price_at_order"]), money(item["price"])
        item["price"] = new
        if old != new:
            changes.append(
                PriceChange(movie_id=item["movie_id"], name=item["name"], old_price=old, new_price=new)
            )
            await OrderItem.update({OrderItem.price_at_order: new}).where(OrderItem.id == item["id"]).run()
    return items, changes, total([item["price"] for item in items])


async def create_payment(user_id: int, order_id: int) -> PaymentCreated:
    """Start paying `order_id` for its owner `user_id`; returns the pending payment and its intent.

    Raises `NotFound` (`order_not_found`) when the order does not exist or is
    another user's, `Conflict` (`not_pending`) when it is paid or canceled,
    `Conflict` (`nothing_to_pay`) for a 0.00 total (prices dropped to 0.00 since
    the order was made; the order stays pending and its owner can cancel it),
    and `PaymentGatewayError`
    (502) when the gateway fails, in which case nothing is written.
    """
    currency = get_settings().currency
    gateway = get_gateway()
    async with transaction():
        order = await lock_order(order_id)
        if order is None or order["user_id"] != user_id:
            raise NotFound("Order not found.", code="order_not_found")
        if order["status"] != OrderStatus.PENDING:
            raise Conflict(
                f"Order #{order_id} is {order['status']}; only a pending order can be paid.",
                code="not_pending",
            )
        items, changes, amount = await _revalidate_prices(order_id)
        if amount != order["total_amount"]:
            await Order.update({Order.total_amount: amount}).where(Order.id == order_id).run()
        if amount <= 0:
            raise Conflict("The order total is 0.00: there is nothing to pay.", code="nothing_to_pay")

        existing = (
            await Payment.select(*_PAYMENT_COLUMNS)
            .where(Payment.order == order_id, Payment.status == PaymentStatus.PENDING)
            .order_by(Payment.id, ascending=False)
            .run()
        )
        reusable = next(
            (
                old
                for old in existing
                if money(old["amount"]) == amount and old["currency"] == currency and old["client_secret"]
            ),
            None,
        )
        # Declined intents can still be retried at the gateway: cancel them so only one intent can pay.
        await cancel_live_intents(
            order_id,
            "Replaced by a new payment of the order.",
            statuses=(PaymentStatus.CANCELED,),
            except_payment_id=reusable["id"] if reusable else None,
        )
        for old in existing:
            if old is reusable:
                continue
            # The total changed: this intent must never be confirmed for the old amount.
            if old["external_payment_id"]:
                await gateway.cancel_intent(old["external_payment_id"])
            await (
                Payment.update(
                    {
                        Payment.status: PaymentStatus.CANCELED,
                        Payment.client_secret: None,
                        Payment.failure_reason: (
                            f"Replaced by a new payment: the order total changed from "
                            f"{money(old['amount'])} to {amount}."
                        ),
                    }
                )
                .where(Payment.id == old["id"])
                .run()
            )

        if reusable is not None:
            # Same total: the intent stays valid; keep its items in step with today's prices.
            for item in items:
                await (
                    PaymentItem.update({PaymentItem.price_at_payment: item["price"]})
                    .where(PaymentItem.payment == reusable["id"], PaymentItem.order_item == item["id"])
                    .run()
                )
            return PaymentCreated(
                payment_id=reusable["id"],
                order_id=order_id,
                status=PaymentStatus.PENDING,
                amount=amount,
                currency=currency,
                client_secret=reusable["client_secret"],
                external_payment_id=reusable["external_payment_id"],
                price_changes=changes,
            )
        created_at = utcnow()
        payment = Payment(
            user=user_id,
            order=order_id,
            created_at=created_at,
            status=PaymentStatus.PENDING,
            amount=amount,
            currency=currency,
            # Piccolo's Varchar/Text default is "", even for nullable columns: NULL until known
            # (an "" would also collide on the unique external_payment_id).
            external_payment_id=None,
            client_secret=None,
            failure_reason=None,
        )
        await payment.save()
        payment_id = int(payment.id)
        await PaymentItem.insert(
            *(
                PaymentItem(payment=payment_id, order_item=item["id"], price_at_payment=item["price"])
                for item in items
            )
        ).run()
        intent = await gateway.create_intent(
            amount=to_minor_units(amount, currency),
            currency=currency,
            metadata={"order_id": str(order_id), "payment_id": str(payment_id), "user_id": str(user_id)},
            idempotency_key=f"cinema-payment-{payment_id}-{created_at:%Y%m%dT%H%M%S%f}",
        )
        await (
            Payment.update(
                {Payment.external_payment_id: intent.id, Payment.client_secret: intent.client_secret}
            )
            .where(Payment.id == payment_id)
            .run()
        )
    return PaymentCreated(
        payment_id=payment_id,
        order_id=order_id,
        status=PaymentStatus.PENDING,
        amount=amount,
        currency=currency,
        client_secret=intent.client_secret,
        external_payment_id=intent.id,
        price_changes=changes,
    )


async def cancel_live_intents(
    order_id: int,
    reason: str,
    *,
    statuses: tuple[PaymentStatus, ...] = (PaymentStatus.PENDING, PaymentStatus.CANCELED),
    except_payment_id: int | None = None,
    tolerate_gateway_errors: bool = False,
) -> int:
    """Cancel at the gateway every intent of `order_id` that could still be paid; returns how many.

    Live intents are those of payments in `statuses` (pending, or canceled by a
    decline) whose `client_secret` is still set. Each is canceled at the
    gateway, then its payment becomes `canceled` with `client_secret` NULL; a
    pending payment gets `reason`, a declined one keeps its decline reason.
    Call inside a transaction, after `lock_order`. Raises `PaymentGatewayError`
    (502) when an intent cannot be canceled, unless `tolerate_gateway_errors`
    (then the payment is left as it is and the error logged).
    """
    where = [
        Payment.order == order_id,
        Payment.status.is_in([s.value for s in statuses]),
        Payment.client_secret.is_not_null(),
    ]
    if except_payment_id is not None:
        where.append(Payment.id != except_payment_id)
    rows = await Payment.select(Payment.id, Payment.status, Payment.external_payment_id).where(*where).run()
    done = 0
    for row in rows:
        if row["external_payment_id"]:
            try:
                # Chosen only when there is an intent to cancel: an order without
                # live intents can be canceled even with no gateway configured.
                await get_gateway().cancel_intent(row["external_payment_id"])
            except PaymentGatewayError:
                if not tolerate_gateway_errors:
                    raise
                log.error(
                    "could not cancel intent %s of payment %s (order %s)",
                    row["external_payment_id"],
                    row["id"],
                    order_id,
                )
                continue
        values: dict[Any, Any] = {Payment.status: PaymentStatus.CANCELED, Payment.client_secret: None}
        if row["status"] == PaymentStatus.PENDING:
            values[Payment.failure_reason] = reason
        await Payment.update(values).where(Payment.id == row["id"]).run()
        done += 1
    return done


async def cancel_open_payments(order_id: int, reason: str = "The order was canceled.") -> int:
    """Cancel the order's live intents at the gateway (`cancel_live_intents`); returns how many.

    For the code that cancels a pending order: call it inside that transaction,
    after locking the order (`lock_order`), so a stale browser tab can no longer
    pay an order that is gone (a declined intent included). Raises
    `PaymentGatewayError` (502) when an intent cannot be canceled (the caller's
    transaction then rolls back).
    """
    return await cancel_live_intents(order_id, reason)


async def get_payment(payment_id: int, *, viewer_id: int | None) -> PaymentOut:
    """One payment. `viewer_id` is the caller unless they are ADMIN (None: any payment).

    Raises `NotFound` (`payment_not_found`) for a missing payment or another user's.
    """
    payment = await payment_out(payment_id)
    if viewer_id is not None and payment.user_id != viewer_id:
        raise NotFound("Payment not found.", code="payment_not_found")
    return payment


async def list_payments(
    params: PageParams,
    *,
    user_id: int | None = None,
    status: PaymentStatus | None = None,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
) -> Page[PaymentOut]:
    """Payments newest first, with their items, filtered and paged.

    `date_from`/`date_to` filter `created_at`: dates are whole UTC days, both
    inclusive; datetimes are exact bounds. Raises `InvalidInput`
    (`invalid_date_range`) when `date_from` is after `date_to`.
    `GET /payments/` passes the caller as `user_id`; `GET /payments/admin` any filter.
    """
    where = []
    if user_id is not None:
        where.append(Payment.user == user_id)
    if status is not None:
        where.append(Payment.status == PaymentStatus(status).value)
    start = utc_bound(date_from, end=False) if date_from is not None else None
    if start is not None:
        where.append(Payment.created_at >= start)
    if date_to is not None:
        finish = utc_bound(date_to, end=True)
        inclusive = isinstance(date_to, datetime)
        if start is not None and (finish < start if inclusive else finish <= start):
            raise InvalidInput("date_from must not be after date_to.", code="invalid_date_range")
        where.append(Payment.created_at <= finish if inclusive else Payment.created_at < finish)
    query = Payment.select(*_PAYMENT_COLUMNS)
    count = Payment.count()
    if where:
        query = query.where(*where)
        count = count.where(*where)
    rows = (
        await query.order_by(Payment.created_at, Payment.id, ascending=False)
        .limit(params.per_page)
        .offset(params.offset)
        .run()
    )
    items = await _payment_items([int(r["id"]) for r in rows])
    return Page[PaymentOut].build([_out(r, items[int(r["id"])]) for r in rows], params, await count.run())


async def movie_names(movie_ids: list[int]) -> list[str]:
    """Names of the movies, in the order of `movie_ids` (for emails)."""
    rows = (
        await Movie.select(Movie.id, Movie.name).where(Movie.id.is_in(movie_ids)).run() if movie_ids else []
    )
    names = {int(r["id"]): str(r["name"]) for r in rows}
    return [names[m] for m in movie_ids if m in names]
