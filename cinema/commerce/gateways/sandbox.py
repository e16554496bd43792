"""The local sandbox gateway: the embedded default when no `STRIPE_API_KEY` is set.

It makes fake PaymentIntent ids and client secrets without any network call;
a person then drives the outcome through
`POST /payments/{payment_id}/sandbox/{succeed|fail}`, which feeds a
`GatewayEvent` to the same handler as the Stripe webhook (API.md, Payments).
"""

from __future__ import annotations

import secrets

from cinema.commerce.gateways.base import Intent, RefundResult

#: Prefix of sandbox PaymentIntent ids (a Stripe id starts with `pi_`).
INTENT_PREFIX = "pi_sandbox_"


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
        return None

    async def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> RefundResult:
        return RefundResult(id="re_sandbox_" + _token(), status="succeeded", amount=amount)
