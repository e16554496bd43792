"""Gateway events: the Stripe webhook and the sandbox outcomes, applied exactly once.

Rules (docs/api.md, "Payments"):
- The webhook is verified over the raw body with `STRIPE_WEBHOOK_SECRET`
  (`stripe.Webhook.construct_event`, 300 s tolerance); a bad or stale
  signature is 400 and changes nothing.
- `payment_intent.succeeded`: payment `successful`, order `paid`; per bought
  item one `purchases` row and one `purchase` entitlement
  (`purchases_count` counters +1; a running rental of the movie is
  superseded), per rented item one `rental` entitlement
  (docs/entitlements.md, "Rentals"); those movies leave the buyer's cart,
  success email after commit. A rented movie the buyer owns for good by then
  gets no rental and the payment's `failure_reason` asks admins to refund it.
- `payment_intent.payment_failed`: a pending payment becomes `canceled` with
  the decline reason and advice to try another method; failure email; the
  order stays pending.
- `charge.refunded`: payment `refunded` (see `refunds.apply_refund`); a no-op
  when the refund was already applied from the API answer.
- Each event id is recorded in `payment_events` in the same transaction as
  its effect, so a redelivery is recognised and applied once. Order of arrival
  does not matter: an event whose status change the payment lifecycle
  forbids (`cinema.commerce.statuses.PAYMENT`: a late failure after success,
  a success after a refund) changes nothing, and a failed payment can still
  succeed (Stripe lets the customer retry the same intent) until a newer
  payment or the order's success cancels its intent.
- One order, one charge: a success cancels the order's other live intents at
  the gateway (`payments.cancel_live_intents`). If a second success arrives
  anyway (a race at Stripe), the payment is recorded `successful` (the money
  was taken) with a `failure_reason` "... refund it" that admins see in
  `GET /payments/admin`, the order is left alone, and an error is logged.
- An amount or currency that does not match the payment and its order changes
  nothing and is logged. Unknown event types are acknowledged and ignored.

The sandbox gateway feeds `sandbox_outcome` events through the same
`apply_event`, so both front doors share every rule above.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

from cinema.accounts.actor import CurrentUser
from cinema.catalog import counters
from cinema.commerce.errors import (
    IntentCanceled,
    PaymentNotFound,
    SandboxOff,
    WebhookNotConfigured,
)
from cinema.commerce.gateways.base import (
    CHARGE_REFUNDED,
    HANDLED_EVENT_TYPES,
    PAYMENT_FAILED,
    PAYMENT_SUCCEEDED,
    GatewayEvent,
)
from cinema.commerce.gateways.sandbox import intent_canceled
from cinema.commerce.offers import Offer
from cinema.commerce.payments import cancel_live_intents, movie_names, payment_out
from cinema.commerce.refunds import apply_refund
from cinema.commerce.rows import email_of, lock_order, lock_payment, set_order_status, set_payment_status
from cinema.commerce.schemas import PaymentOut, WebhookReceipt
from cinema.commerce.statuses import ORDER, PAYMENT, OrderStatus, PaymentStatus
from cinema.commerce.tables import (
    Cart,
    CartItem,
    OrderItem,
    Payment,
    PaymentEvent,
    Purchase,
)
from cinema.config import get_settings
from cinema.db import AfterCommit, transaction
from cinema.entitlements import service as entitlements
from cinema.entitlements.service import PaidItem
from cinema.jobs import enqueue_email
from cinema.money import format_amount, to_minor_units

log = logging.getLogger("cinema.payments.events")

#: Shown to the customer (and stored in `failure_reason`) after a declined payment.
TRY_ANOTHER_METHOD = "Please try again with another card or payment method."


class Outcome(StrEnum):
    """What an event did (the webhook's answer; 200 in every case)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    MISMATCH = "mismatch"
    UNKNOWN_PAYMENT = "unknown_payment"


async def handle_stripe_webhook(payload: bytes, signature: str | None) -> WebhookReceipt:
    """Verify a Stripe webhook delivery (raw body + `Stripe-Signature`) and apply its event.

    Raises `InvalidWebhookSignature` (400) for a missing, wrong or stale
    signature, `InvalidWebhookEvent` (400) for a signed body that is not an
    event, and `WebhookNotConfigured` (503) when `STRIPE_WEBHOOK_SECRET` is not set.
    """
    from cinema.commerce.gateways.stripe import parse_webhook

    secret = get_settings().stripe_webhook_secret
    if not secret:
        raise WebhookNotConfigured()
    return await apply_event(parse_webhook(payload, signature, secret))


async def apply_event(event: GatewayEvent, *, sandbox: bool = False) -> WebhookReceipt:
    """Apply one verified gateway event once; returns what it did.

    Safe under concurrent and repeated delivery: the event id is inserted with
    ON CONFLICT DO NOTHING in the transaction that applies it, and the order
    and payment rows are locked (order first) while it runs. Every outcome is
    judged under those locks, so an order canceled (or paid) meanwhile is seen.
    `sandbox` events are the sandbox customer's outcomes: like Stripe, the
    sandbox refuses to confirm an intent canceled meanwhile (a canceled order
    cancels its intents), raising `IntentCanceled` (409) and recording nothing.
    """
    if event.type not in HANDLED_EVENT_TYPES:
        log.info("ignoring gateway event %s of type %s", event.id, event.type)
        return WebhookReceipt(event_id=event.id, outcome=Outcome.IGNORED)
    found = (
        await Payment.select(Payment.id, Payment.order.as_alias("order_id"))
        .where(Payment.external_payment_id == event.intent_id)
        .first()
        .run()
        if event.intent_id
        else None
    )
    async with transaction() as hooks:
        inserted = (
            await PaymentEvent.insert(
                PaymentEvent(event_id=event.id, type=event.type, payment=found["id"] if found else None)
            )
            .on_conflict(target=PaymentEvent.event_id, action="DO NOTHING")
            .returning(PaymentEvent.id)
            .run()
        )
        if not inserted:
            log.info("gateway event %s already applied", event.id)
            return WebhookReceipt(event_id=event.id, outcome=Outcome.DUPLICATE)
        if found is None:
            log.warning(
                "gateway event %s (%s) names no known payment: %s", event.id, event.type, event.intent_id
            )
            return WebhookReceipt(event_id=event.id, outcome=Outcome.UNKNOWN_PAYMENT)
        order = await lock_order(int(found["order_id"]))
        payment = await lock_payment(int(found["id"]))
        assert order is not None  # restricted foreign keys: never deleted
        assert payment is not None
        if sandbox and event.intent_id and await intent_canceled(event.intent_id):
            # Checked under the order lock: a cancel that committed a moment ago is seen here.
            raise IntentCanceled()
        outcome = _refusal(event, payment) or await _HANDLERS[event.type](event, order, payment, hooks)
    log.info("gateway event %s (%s) for payment %s: %s", event.id, event.type, payment["id"], outcome)
    return WebhookReceipt(event_id=event.id, outcome=outcome)


#: The payment status each handled event moves its payment to.
EVENT_MOVES = {
    PAYMENT_SUCCEEDED: PaymentStatus.SUCCESSFUL,
    PAYMENT_FAILED: PaymentStatus.CANCELED,
    CHARGE_REFUNDED: PaymentStatus.REFUNDED,
}


def _refusal(event: GatewayEvent, payment: dict[str, Any]) -> Outcome | None:
    """Why the event changes nothing (`ignored`, `mismatch`), or None when it applies.

    Ignored: a move the payment lifecycle forbids (a late or repeated event:
    the payment has moved past it, e.g. a refund already applied from the
    refund API's answer), and a partial refund. Mismatch: see `_matches`.
    """
    if not PAYMENT.can_transition(payment["status"], EVENT_MOVES[event.type]):
        return Outcome.IGNORED
    if event.type == CHARGE_REFUNDED and not event.fully_refunded:
        log.warning("partial refund on payment %s (event %s) ignored", payment["id"], event.id)
        return Outcome.IGNORED
    if not _matches(event, payment):
        return Outcome.MISMATCH
    return None


def _matches(event: GatewayEvent, payment: dict[str, Any]) -> bool:
    """The event's amount and currency are the payment's (minor units, lower-case code)."""
    expected = to_minor_units(payment["amount"], payment["currency"])
    if event.amount == expected and event.currency == payment["currency"]:
        return True
    log.error(
        "gateway event %s (%s) does not match payment %s: got %s %s, expected %s %s; nothing changed",
        event.id,
        event.type,
        payment["id"],
        event.amount,
        event.currency,
        expected,
        payment["currency"],
    )
    return False


async def _succeeded(
    event: GatewayEvent, order: dict[str, Any], payment: dict[str, Any], hooks: AfterCommit
) -> Outcome:
    if not ORDER.can_transition(order["status"], OrderStatus.PAID):
        # The customer paid a second intent for an order already paid or canceled:
        # record the money taken, leave the order alone, and flag it for a refund.
        log.error(
            "payment %s succeeded but order %s is already %s; it needs a refund",
            payment["id"],
            order["id"],
            order["status"],
        )
        await set_payment_status(
            payment,
            PaymentStatus.SUCCESSFUL,
            {
                Payment.failure_reason: (
                    f"Order #{order['id']} was already {order['status']} when this payment succeeded: refund it."
                )
            },
        )
        return Outcome.APPLIED
    if order["total_amount"] != payment["amount"]:
        log.error(
            "payment %s of %s does not match order %s total %s; nothing changed",
            payment["id"],
            payment["amount"],
            order["id"],
            order["total_amount"],
        )
        return Outcome.MISMATCH

    user_id = int(order["user_id"])
    await set_payment_status(payment, PaymentStatus.SUCCESSFUL, {Payment.failure_reason: None})
    await set_order_status(order, OrderStatus.PAID)
    # One order, one charge: no other intent of this order may be paid from now on.
    await cancel_live_intents(
        int(order["id"]),
        f"The order was paid by payment #{payment['id']}.",
        except_payment_id=int(payment["id"]),
        tolerate_gateway_errors=True,
    )
    rows = (
        await OrderItem.select(OrderItem.id, OrderItem.movie.as_alias("movie_id"), OrderItem.offer)
        .where(OrderItem.order == order["id"])
        .order_by(OrderItem.id)
        .run()
    )
    movie_ids = [int(r["movie_id"]) for r in rows]
    bought = [PaidItem(int(r["movie_id"]), int(r["id"])) for r in rows if r["offer"] == Offer.BUY]
    rented = [PaidItem(int(r["movie_id"]), int(r["id"])) for r in rows if r["offer"] == Offer.RENT]
    bought_ids = [item.movie_id for item in bought]
    owned = {
        int(r["movie_id"])
        for r in await Purchase.select(Purchase.movie.as_alias("movie_id"))
        .where(Purchase.user == user_id, Purchase.movie.is_in(bought_ids or [0]))
        .run()
    }
    new_ids = [m for m in bought_ids if m not in owned]
    if new_ids:
        await Purchase.insert(*(Purchase(user=user_id, movie=m, order=order["id"]) for m in new_ids)).run()
        await counters.bump(new_ids, purchases_count=1)
    await entitlements.grant_purchases(user_id, bought, payment_id=int(payment["id"]))
    granted = await entitlements.grant_rentals(user_id, rented, payment_id=int(payment["id"]))
    skipped = sorted(item.movie_id for item in rented if item.order_item_id not in granted)
    if skipped:
        # Owned for good by now (a staff grant after the order was made): the rental money needs a refund.
        log.error(
            "payment %s rented movies %s the buyer already owns; it needs a refund", payment["id"], skipped
        )
        await (
            Payment.update(
                {
                    Payment.failure_reason: (
                        f"Rented movie(s) {', '.join(f'#{m}' for m in skipped)} already owned "
                        "when this payment succeeded: refund them."
                    )
                }
            )
            .where(Payment.id == payment["id"])
            .run()
        )
    cart = await Cart.select(Cart.id).where(Cart.user == user_id).first().run()
    if cart is not None and movie_ids:
        await CartItem.delete().where(CartItem.cart == cart["id"], CartItem.movie.is_in(movie_ids)).run()
    hooks.add(
        enqueue_email(
            "payment_succeeded",
            await email_of(user_id),
            order_id=int(order["id"]),
            amount=format_amount(payment["amount"]),
            currency=str(payment["currency"]),
            movies=[
                f"{name} (rental)" if r["offer"] == Offer.RENT else name
                for r, name in zip(rows, await movie_names(movie_ids), strict=True)
            ],
        )
    )
    return Outcome.APPLIED


def failure_reason(code: str | None, message: str | None) -> str:
    """The stored and emailed reason for a declined payment, with the advice to try another method."""
    text = (message or "The payment was declined.").strip()
    if code:
        text = f"{text.rstrip('.')} ({code})."
    return f"{text} {TRY_ANOTHER_METHOD}"


async def _failed(
    event: GatewayEvent, order: dict[str, Any], payment: dict[str, Any], hooks: AfterCommit
) -> Outcome:
    reason = failure_reason(event.failure_code, event.failure_message)
    await set_payment_status(payment, PaymentStatus.CANCELED, {Payment.failure_reason: reason})
    hooks.add(
        enqueue_email(
            "payment_failed", await email_of(int(order["user_id"])), order_id=int(order["id"]), reason=reason
        )
    )
    return Outcome.APPLIED


async def _refunded(
    event: GatewayEvent, order: dict[str, Any], payment: dict[str, Any], hooks: AfterCommit
) -> Outcome:
    await apply_refund(order, payment, refund_id=event.refund_id, decided_by=None, hooks=hooks)
    return Outcome.APPLIED


Handler = Callable[[GatewayEvent, dict[str, Any], dict[str, Any], AfterCommit], Awaitable[Outcome]]
#: What each handled event does once `_refusal` lets it apply.
_HANDLERS: dict[str, Handler] = {
    PAYMENT_SUCCEEDED: _succeeded,
    PAYMENT_FAILED: _failed,
    CHARGE_REFUNDED: _refunded,
}


async def sandbox_outcome(actor: CurrentUser, payment_id: int, succeed: bool) -> PaymentOut:
    """Play the sandbox customer: succeed or decline the actor's payment, through `apply_event`.

    Only with `PAYMENT_GATEWAY=sandbox`; only the payment's owner. Raises
    `SandboxOff` (404) when the sandbox is not the configured gateway,
    `PaymentNotFound` (404) for a missing or another user's payment, and
    `IntentCanceled` (409) when the intent was canceled (replaced by a newer
    payment, the order paid by another one, or the order canceled), as Stripe
    refuses to confirm a canceled intent. That is judged in `apply_event`,
    under the order lock.
    """
    if not get_settings().uses_sandbox:
        raise SandboxOff()
    payment = await payment_out(payment_id)
    if payment.user_id != actor.id or payment.external_payment_id is None:
        raise PaymentNotFound()
    await apply_event(
        GatewayEvent(
            id="evt_sandbox_" + secrets.token_hex(12),
            type=PAYMENT_SUCCEEDED if succeed else PAYMENT_FAILED,
            intent_id=payment.external_payment_id,
            amount=to_minor_units(payment.amount, payment.currency),
            currency=payment.currency,
            failure_code=None if succeed else "card_declined",
            failure_message=None if succeed else "Your card was declined.",
        ),
        sandbox=True,
    )
    return await payment_out(payment_id)
