"""Stripe through the official `stripe` package's async `StripeClient`.

`STRIPE_API_KEY` selects this gateway; `STRIPE_API_BASE` points the client at
an emulator (the tests' `localstripe`). Webhook payloads are verified with
`stripe.Webhook.construct_event` (HMAC-SHA256 of `"{t}.{raw body}"` with
`STRIPE_WEBHOOK_SECRET`, default 300 s tolerance).

Every Stripe error becomes `PaymentGatewayError` (502; `GatewayRefused` with
Stripe's message when Stripe answered), except an amount below Stripe's
minimum charge, which is the caller's problem (`AmountTooSmall`, 409).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import stripe

from cinema.commerce.errors import (
    AmountTooSmall,
    GatewayRefused,
    InvalidWebhookEvent,
    InvalidWebhookSignature,
    PaymentGatewayError,
    RefundFailed,
)
from cinema.commerce.gateways.base import (
    CHARGE_REFUNDED,
    HANDLED_EVENT_TYPES,
    GatewayEvent,
    Intent,
    RefundResult,
)

log = logging.getLogger("cinema.payments.stripe")

#: Seconds to wait for Stripe on one attempt; the client retries network errors twice.
TIMEOUT_SECONDS = 20
MAX_NETWORK_RETRIES = 2


class StripeGateway:
    """PaymentIntents and refunds on Stripe (or an emulator at `api_base`)."""

    name = "stripe"

    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        self._api_key = api_key
        self._api_base = api_base

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[stripe.StripeClient]:
        """A client on its own httpx connection pool, closed after use (safe on any event loop)."""
        http = stripe.HTTPXClient(timeout=TIMEOUT_SECONDS)
        client = stripe.StripeClient(
            self._api_key,
            base_addresses={"api": self._api_base} if self._api_base else None,
            http_client=http,
            max_network_retries=MAX_NETWORK_RETRIES,
        )
        try:
            yield client
        except stripe.InvalidRequestError as exc:
            if exc.code == "amount_too_small":
                raise AmountTooSmall(provider_message=exc.user_message or str(exc)) from exc
            log.warning("stripe rejected a request: %s", exc)
            raise GatewayRefused(provider_message=exc.user_message or str(exc)) from exc
        except stripe.StripeError as exc:
            log.warning("stripe call failed: %r", exc)
            raise PaymentGatewayError() from exc
        finally:
            await http.close_async()  # type: ignore[no-untyped-call]

    async def create_intent(
        self, *, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> Intent:
        async with self._client() as client:
            intent = await client.v1.payment_intents.create_async(
                {
                    "amount": amount,
                    "currency": currency,
                    "metadata": metadata,
                    # The SDK's typed params name it `allowed_payment_method_types` (newest API
                    # version); Stripe still accepts this name and localstripe only this one.
                    "payment_method_types": ["card"],  # type: ignore[typeddict-unknown-key]
                },
                {"idempotency_key": idempotency_key},
            )
        if intent.client_secret is None:  # pragma: no cover - Stripe always returns one on create
            raise PaymentGatewayError()
        return Intent(
            id=intent.id,
            client_secret=intent.client_secret,
            amount=intent.amount,
            currency=intent.currency,
            status=intent.status,
        )

    async def cancel_intent(self, intent_id: str) -> None:
        """Cancel the intent; one that is already canceled counts as done (idempotent).

        Any other state Stripe refuses to cancel (e.g. `succeeded`: the money is
        taken, its webhook will tell) raises `PaymentGatewayError`.
        """
        async with self._client() as client:
            try:
                await client.v1.payment_intents.cancel_async(intent_id)
            except stripe.InvalidRequestError as exc:
                if exc.code != "payment_intent_unexpected_state":
                    raise
                intent = await client.v1.payment_intents.retrieve_async(intent_id)
                if intent.status != "canceled":
                    raise

    async def refund(self, *, intent_id: str, amount: int, idempotency_key: str) -> RefundResult:
        async with self._client() as client:
            refund = await client.v1.refunds.create_async(
                {"payment_intent": intent_id, "amount": amount}, {"idempotency_key": idempotency_key}
            )
        if refund.status not in ("succeeded", "pending"):
            raise RefundFailed(gateway_status=refund.status)
        return RefundResult(id=refund.id, status=refund.status or "succeeded", amount=refund.amount)


def parse_webhook(payload: bytes, signature: str | None, secret: str) -> GatewayEvent:
    """Verify a Stripe webhook over its raw body and reduce it to a `GatewayEvent`.

    Raises `InvalidWebhookSignature` (400) for a missing, wrong or stale (older
    than 300 s) signature, and `InvalidWebhookEvent` (400) for a validly signed
    body that is not a well-formed event (not UTF-8, not JSON, or see
    `event_from_dict`). Either way nothing is recorded.
    """
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:  # Stripe always sends UTF-8 JSON
        raise InvalidWebhookEvent() from exc
    try:
        stripe.WebhookSignature.verify_header(text, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhookSignature() from exc
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise InvalidWebhookEvent() from exc
    return event_from_dict(event)


#: Longest event id, type and object ids we store (`payment_events.event_id` is VARCHAR(255)).
MAX_ID_LENGTH = 255
MAX_TYPE_LENGTH = 100


def _required_text(value: Any, limit: int = MAX_ID_LENGTH) -> str:
    """A non-empty string of at most `limit` characters without NUL, else `invalid_event`."""
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise InvalidWebhookEvent()
    return value


def _text(value: Any, limit: int = MAX_ID_LENGTH) -> str | None:
    """`_required_text`, or None when absent (JSON null or missing)."""
    return None if value is None else _required_text(value, limit)


def _dict(value: Any) -> dict[str, Any]:
    """An optional JSON object: `{}` when absent, `invalid_event` when something else."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidWebhookEvent()
    return value


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def event_from_dict(event: Any) -> GatewayEvent:
    """Reduce a Stripe event (parsed JSON) to a `GatewayEvent`; unknown types keep only id and type.

    Raises `InvalidWebhookEvent` (400) when the event is not an
    object, its `id` or `type` is missing, not a string, too long (255 / 100
    characters) or holds NUL, or, for a handled type, `data`, `data.object`,
    `last_payment_error`, `refunds` or `refunds.data` have the wrong JSON type
    or an object id is malformed.
    """
    if not isinstance(event, dict):
        raise InvalidWebhookEvent()
    event_id = _required_text(event.get("id"))
    event_type = _required_text(event.get("type"), MAX_TYPE_LENGTH)
    if event_type not in HANDLED_EVENT_TYPES:
        return GatewayEvent(id=event_id, type=event_type)
    obj = _dict(_dict(event.get("data")).get("object"))
    currency = obj.get("currency")
    currency = currency.lower() if isinstance(currency, str) else None
    if event_type == CHARGE_REFUNDED:
        amount = _int_or_none(obj.get("amount"))
        refunded_amount = _int_or_none(obj.get("amount_refunded"))
        refunds = _dict(obj.get("refunds")).get("data") or []
        if not isinstance(refunds, list):
            raise InvalidWebhookEvent()
        first = _dict(refunds[0]) if refunds else {}
        return GatewayEvent(
            id=event_id,
            type=event_type,
            intent_id=_text(obj.get("payment_intent")),
            amount=refunded_amount,
            currency=currency,
            refund_id=_text(first.get("id")),
            fully_refunded=bool(obj.get("refunded"))
            or (amount is not None and refunded_amount is not None and refunded_amount >= amount),
        )
    error = _dict(obj.get("last_payment_error"))
    received = _int_or_none(obj.get("amount_received"))
    code = error.get("decline_code") or error.get("code")
    message = error.get("message")
    return GatewayEvent(
        id=event_id,
        type=event_type,
        intent_id=_text(obj.get("id")),
        amount=received if received else _int_or_none(obj.get("amount")),
        currency=currency,
        failure_code=code.replace("\x00", "") if isinstance(code, str) else None,
        failure_message=message.replace("\x00", "") if isinstance(message, str) else None,
    )
