"""Payments: creating the PaymentIntent for a pending order, and the payment views.

Rules (docs/api.md, "Payments"):
- `create_payment` revalidates prices (each `price_at_order` and the order
  total follow today's catalog price of the item's offer, `price` or
  `rental_price`; the answer lists `price_changes`; a rental withdrawn since
  the order was made is 409 `rental_not_offered`), then
  creates one PaymentIntent for the exact total in minor units, with an
  idempotency key derived from the payment row.
- Calling it again for the same pending order returns the same intent: the
  product looks up its own open payment first (emulators do not honour
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
- Who may see a payment: `cinema.commerce.access`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from piccolo.custom_types import Combinable

from cinema.accounts.actor import CurrentUser
from cinema.catalog.tables import Movie
from cinema.clock import utcnow
from cinema.commerce.access import PAYMENT_VIEWERS, owner_or, require_role
from cinema.commerce.errors import NothingToPay, PaymentGatewayError, PaymentNotFound, RentalNotOffered
from cinema.commerce.filters import created_between
from cinema.commerce.gateways import get_gateway
from cinema.commerce.offers import Offer, offer_price
from cinema.commerce.rows import PAYMENT_COLUMNS, lock_order_of, set_payment_status
from cinema.commerce.schemas import PaymentCreated, PaymentItemOut, PaymentOut, PriceChange
from cinema.commerce.statuses import (
    OPEN_PAYMENTS,
    ORDER,
    PAYABLE_PAYMENTS,
    PAYMENT,
    OrderStatus,
    PaymentStatus,
    values,
)
from cinema.commerce.tables import (
    Order,
    OrderItem,
    Payment,
    PaymentItem,
)
from cinema.config import get_settings
from cinema.db import transaction
from cinema.money import money, to_minor_units, total
from cinema.pagination import Page, PageParams

log = logging.getLogger("cinema.payments")


async def _payment_items(payment_ids: list[int]) -> dict[int, list[PaymentItemOut]]:
    if not payment_ids:
        return {}
    rows = (
        await PaymentItem.select(
            PaymentItem.payment.as_alias("payment_id"),
            PaymentItem.order_item._.movie.as_alias("movie_id"),
            PaymentItem.order_item._.movie._.name.as_alias("name"),
            PaymentItem.order_item._.offer.as_alias("offer"),
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
                offer=Offer(row["offer"]),
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
    """The payment with its items, whoever asks. Raises `PaymentNotFound` (404)."""
    row = await Payment.select(*PAYMENT_COLUMNS).where(Payment.id == payment_id).first().run()
    if row is None:
        raise PaymentNotFound()
    return _out(row, (await _payment_items([payment_id]))[payment_id])


async def _revalidate_prices(order_id: int) -> tuple[list[dict[str, Any]], list[PriceChange], Decimal]:
    """Move each `price_at_order` to today's price of its offer; returns (items, changes, new total).

    Raises `RentalNotOffered` (409) when a rented movie no longer has a rental price.
    """
    items: list[dict[str, Any]] = (
        await OrderItem.select(
            OrderItem.id,
            OrderItem.offer,
            OrderItem.movie.as_alias("movie_id"),
            OrderItem.movie._.name.as_alias("name"),
            OrderItem.movie._.price.as_alias("price"),
            OrderItem.movie._.rental_price.as_alias("rental_price"),
            OrderItem.price_at_order,
        )
        .where(OrderItem.order == order_id)
        .order_by(OrderItem.id)
        .run()
    )
    changes: list[PriceChange] = []
    for item in items:
        today = offer_price(item["offer"], item["price"], item["rental_price"])
        if today is None:
            raise RentalNotOffered(movie_id=int(item["movie_id"]))
        old, new = money(item["price_at_order"]), today
        item["price"] = new
        if old != new:
            changes.append(
                PriceChange(movie_id=item["movie_id"], name=item["name"], old_price=old, new_price=new)
            )
            await OrderItem.update({OrderItem.price_at_order: new}).where(OrderItem.id == item["id"]).run()
    return items, changes, total([item["price"] for item in items])


async def create_payment(actor: CurrentUser, order_id: int) -> PaymentCreated:
    """Start paying the actor's `order_id`; returns the pending payment and its intent.

    Raises `OrderNotFound` (404) when the order does not exist or is another
    user's, `OrderNotPending` (409) when it is paid or canceled, `NothingToPay`
    (409) for a 0.00 total (prices dropped to 0.00 since the order was made;
    the order stays pending and its owner can cancel it), `RentalNotOffered`
    (409) for a rental withdrawn since the order was made, and
    `PaymentGatewayError` (502) when the gateway fails, in which case nothing
    is written.
    """
    currency = get_settings().currency
    gateway = get_gateway()
    async with transaction():
        order = await lock_order_of(actor, order_id)
        # Paying is only for an order that may still become paid.
        ORDER.transition(order["status"], OrderStatus.PAID)
        items, changes, amount = await _revalidate_prices(order_id)
        if amount != order["total_amount"]:
            await Order.update({Order.total_amount: amount}).where(Order.id == order_id).run()
        if amount <= 0:
            raise NothingToPay()

        existing = (
            await Payment.select(*PAYMENT_COLUMNS)
            .where(Payment.order == order_id, Payment.status.is_in(values(OPEN_PAYMENTS)))
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
            statuses=PAYABLE_PAYMENTS - OPEN_PAYMENTS,
            except_payment_id=reusable["id"] if reusable else None,
        )
        for old in existing:
            if old is reusable:
                continue
            # The total changed: this intent must never be confirmed for the old amount.
            if old["external_payment_id"]:
                await gateway.cancel_intent(old["external_payment_id"])
            await set_payment_status(
                old,
                PaymentStatus.CANCELED,
                {
                    Payment.client_secret: None,
                    Payment.failure_reason: (
                        f"Replaced by a new payment: the order total changed from "
                        f"{money(old['amount'])} to {amount}."
                    ),
                },
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
            user=actor.id,
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
            metadata={"order_id": str(order_id), "payment_id": str(payment_id), "user_id": str(actor.id)},
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
    statuses: frozenset[PaymentStatus] = PAYABLE_PAYMENTS,
    except_payment_id: int | None = None,
    tolerate_gateway_errors: bool = False,
) -> int:
    """Cancel at the gateway every intent of `order_id` that could still be paid; returns how many.

    Live intents are those of payments in `statuses` (by default every status
    from which a payment may still succeed: pending, or declined) whose
    `client_secret` is still set. Each is canceled at the gateway, then its
    `client_secret` is cleared; a pending payment becomes `canceled` with
    `reason`, a declined one keeps its decline reason. Call inside a
    transaction, after locking the order. Raises `PaymentGatewayError` (502)
    when an intent cannot be canceled, unless `tolerate_gateway_errors` (then
    the payment is left as it is and the error logged).
    """
    where = [
        Payment.order == order_id,
        Payment.status.is_in(values(statuses)),
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
        if PAYMENT.can_transition(row["status"], PaymentStatus.CANCELED):
            await set_payment_status(
                row, PaymentStatus.CANCELED, {Payment.client_secret: None, Payment.failure_reason: reason}
            )
        else:  # declined, so already canceled: only its intent goes
            await Payment.update({Payment.client_secret: None}).where(Payment.id == row["id"]).run()
        done += 1
    return done


async def cancel_open_payments(order_id: int, reason: str = "The order was canceled.") -> int:
    """Cancel the order's live intents at the gateway (`cancel_live_intents`); returns how many.

    For the code that cancels a pending order: call it inside that transaction,
    after locking the order (`rows.lock_order`), so a stale browser tab can no longer
    pay an order that is gone (a declined intent included). Raises
    `PaymentGatewayError` (502) when an intent cannot be canceled (the caller's
    transaction then rolls back).
    """
    return await cancel_live_intents(order_id, reason)


async def get_payment(actor: CurrentUser, payment_id: int) -> PaymentOut:
    """One payment, for its owner or an ADMIN.

    Raises `PaymentNotFound` (404) for a missing payment or one the actor may not see.
    """
    payment = await payment_out(payment_id)
    if not owner_or(actor, payment.user_id, PAYMENT_VIEWERS):
        raise PaymentNotFound()
    return payment


async def list_my_payments(actor: CurrentUser, params: PageParams) -> Page[PaymentOut]:
    """The actor's own payments, newest first, with their items (`GET /payments/`)."""
    return await _payments([Payment.user == actor.id], params)


async def list_payments(
    actor: CurrentUser,
    params: PageParams,
    *,
    user_id: int | None = None,
    status: PaymentStatus | None = None,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
) -> Page[PaymentOut]:
    """Every user's payments, newest first, filtered (`GET /payments/admin`): ADMIN only.

    `date_from`/`date_to`: see `filters.created_between`. Raises `StaffOnly`
    (403), `InvalidDateRange`, `InvalidDate`.
    """
    require_role(actor, PAYMENT_VIEWERS)
    where: list[Combinable] = []
    if user_id is not None:
        where.append(Payment.user == user_id)
    if status is not None:
        where.append(Payment.status == PaymentStatus(status).value)
    where += created_between(Payment.created_at, date_from, date_to)
    return await _payments(where, params)


async def _payments(where: list[Combinable], params: PageParams) -> Page[PaymentOut]:
    query = Payment.select(*PAYMENT_COLUMNS)
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
