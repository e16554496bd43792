"""The local sandbox gateway: only when chosen with `PAYMENT_GATEWAY=sandbox`, never in production.

It makes fake PaymentIntent ids and client secrets without any network call;
a person then drives the outcome through
`POST /payments/{payment_id}/sandbox/{succeed|fail}`, which feeds a
`GatewayEvent` to the same handler as the Stripe webhook (docs/api.md, "Payments").

Like Stripe, a canceled sandbox intent can no longer be paid: `cancel_intent`
records the cancellation in `payment_events` (type `payment_intent.canceled`,
event id `sandbox_cancel_<intent id>`), in the caller's transaction, so every
process sees it and a rolled-back cancellation never happened;
`intent_canceled` reads it back (`events.sandbox_outcome` answers 409 for it).
"""

from __future__ import annotations

import secrets

from cinema.commerce.gateways.base import Intent, RefundResult
from cinema.commerce.tables import Payment, PaymentEvent

#: Prefix of sandbox PaymentIntent ids (a Stripe id starts with `pi_`).
INTENT_PREFIX = "pi_sandbox_"
#: Stripe's event type for a canceled intent; the sandbox keeps its cancellations as such events.
INTENT_CANCELED = "payment_intent.canceled"


def _cancel_event_id(intent_id: str) -> str:
    return f"sandbox_cancel_{intent_id}"


async def intent_canceled(intent_id: str) -> bool:
    """Whether the sandbox intent `intent_id` was canceled (then it can neither succeed nor fail)."""
    return await PaymentEvent.exists().where(PaymentEvent.event_id == _cancel_event_id(intent_id)).run()


def _token() -> str:
    return secrets.token_hex(12)


class SandboxGateway:
    """Fake intents and instant refunds; never fails."""

    name = "sandbox"

    async def create_intent(
        self, *, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> Intent:
        intent_id = INTENT_PREFIX + _token()
        return Intent(
            id=intent_id,
            client_secret=f"{intent_id}_secret_{_token()}",
            amount=amount,
            currency=currency,
            status="requires_payment_method",
        )

    async def cancel_intent(self, intent_id: str) -> None:
        """Cancel for good (idempotent): later sandbox outcomes for the intent are refused."""
        payment = (
            await Payment.select(Payment.id).where(Payment.external_payment_id == intent_id).first().run()
        )
        await (
            PaymentEvent.insert(
                PaymentEvent(
                    event_id=_cancel_event_id(intent_id),
                    type=INTENT_CANCELED,
                    payment=payment["id"] if payment else None,
                )
            )
            .on_conflict(target=PaymentEvent.event_id, action="DO NOTHING")
            .run()
        )

    async def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> RefundResult:
        return RefundResult(id="re_sandbox_" + _token(), status="succeeded", amount=amount)
