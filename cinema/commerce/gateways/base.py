"""The payment gateway interface: what the payment services need from Stripe or the sandbox.

A gateway creates and cancels PaymentIntents and refunds them; amounts are
integer minor units of the currency (cents for `usd`). Every method either
returns a result or raises `cinema.errors.PaymentGatewayError` (502), so a
caller inside a transaction rolls back and leaves nothing half written.

Events the gateway sends back (Stripe webhooks, sandbox outcomes) arrive as a
`GatewayEvent`, the one shape `cinema.commerce.events.apply_event` handles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

#: Event types the product acts on (Stripe's names; the sandbox uses them too).
PAYMENT_SUCCEEDED = "payment_intent.succeeded"
PAYMENT_FAILED = "payment_intent.payment_failed"
CHARGE_REFUNDED = "charge.refunded"
HANDLED_EVENT_TYPES = frozenset({PAYMENT_SUCCEEDED, PAYMENT_FAILED, CHARGE_REFUNDED})


@dataclass(frozen=True)
class Intent:
    """A PaymentIntent as the product needs it. `amount` is in minor units."""

    id: str
    client_secret: str
    amount: int
    currency: str
    status: str


@dataclass(frozen=True)
class RefundResult:
    """A refund made through the gateway. `status` is Stripe's (`succeeded`, `pending`, ...)."""

    id: str
    status: str
    amount: int


@dataclass(frozen=True)
class GatewayEvent:
    """A verified gateway event, reduced to what the handlers read.

    `intent_id` is the PaymentIntent the event is about (for `charge.refunded`,
    the charge's `payment_intent`). `amount` is in minor units: the intent's
    amount (received) for payment events, the refunded amount for
    `charge.refunded`, whose `fully_refunded` says whether the whole charge was
    refunded. `failure_code`/`failure_message` come from the intent's
    `last_payment_error` (e.g. `card_declined`, "Your card was declined.").
    """

    id: str
    type: str
    intent_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    refund_id: str | None = None
    fully_refunded: bool = False


class PaymentGateway(Protocol):
    """What Stripe and the sandbox both provide. All methods raise `PaymentGatewayError` on failure."""

    #: "stripe" or "sandbox"
    name: str

    async def create_intent(
        self, *, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> Intent:
        """Create a card PaymentIntent for `amount` minor units; the key makes retries safe."""
        ...

    async def cancel_intent(self, intent_id: str) -> None:
        """Cancel an intent nobody has paid yet, so its `client_secret` can no longer be confirmed."""
        ...

    async def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> RefundResult:
        """Refund `amount` minor units (the whole payment) charged through `intent_id`."""
        ...
