"""HTTP routes for payments, the Stripe webhook, the sandbox and refunds (docs/api.md, "Payments").

Thin: authenticate, call one service function, render. `POST /orders/{order_id}/refund`
(the owner's refund request) lives here with the other refund routes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, status

from cinema.api.deps import Paging, PathId, User
from cinema.api.errors import error_responses
from cinema.api.routers.orders import DateFrom, DateTo
from cinema.commerce import events, payments, refunds
from cinema.commerce.errors import (
    AlreadyRefunded,
    AmountTooSmall,
    IntentCanceled,
    InvalidDateRange,
    InvalidWebhookEvent,
    InvalidWebhookSignature,
    NothingToPay,
    NotRefundable,
    OrderNotFound,
    OrderNotPaid,
    OrderNotPending,
    PaymentGatewayError,
    PaymentNotFound,
    PaymentsNotConfigured,
    RefundAlreadyRequested,
    StaffOnly,
    WebhookNotConfigured,
)
from cinema.commerce.schemas import (
    PaymentCreated,
    PaymentOut,
    RefundRequestIn,
    RefundRequestOut,
    WebhookReceipt,
)
from cinema.commerce.statuses import PaymentStatus
from cinema.db import MAX_ID
from cinema.pagination import Page

router = APIRouter(tags=["payments"])
#: Mounted by the app factory only with `PAYMENT_GATEWAY=sandbox` (docs/api.md, "Payments").
sandbox_router = APIRouter(tags=["payments"])

#: What any route that talks to the gateway may answer besides its own errors.
_GATEWAY_ERRORS = (PaymentGatewayError, PaymentsNotConfigured)


@router.get("/payments", summary="My payments, newest first")
async def my_payments(user: User, paging: Paging) -> Page[PaymentOut]:
    return await payments.list_my_payments(user, paging)


@router.get(
    "/payments/admin",
    summary="All payments (ADMIN), with filters",
    responses=error_responses(InvalidDateRange, StaffOnly),
)
async def admin_payments(
    user: User,
    paging: Paging,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: PaymentStatus | None = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
) -> Page[PaymentOut]:
    return await payments.list_payments(
        user, paging, user_id=user_id, status=status, date_from=date_from, date_to=date_to
    )


@router.get(
    "/payments/{payment_id}",
    summary="One payment (owner or ADMIN)",
    responses=error_responses(PaymentNotFound),
)
async def get_payment(payment_id: PathId, user: User) -> PaymentOut:
    return await payments.get_payment(user, payment_id)


@router.post(
    "/payments/{order_id}",
    status_code=status.HTTP_201_CREATED,
    summary="Start paying an order: a PaymentIntent and its client_secret",
    responses=error_responses(OrderNotFound, OrderNotPending, NothingToPay, AmountTooSmall, *_GATEWAY_ERRORS),
)
async def create_payment(order_id: PathId, user: User) -> PaymentCreated:
    return await payments.create_payment(user, order_id)


@router.post(
    "/payments/{payment_id}/refund",
    summary="Refund a payment through the gateway (ADMIN)",
    responses=error_responses(StaffOnly, PaymentNotFound, AlreadyRefunded, NotRefundable, *_GATEWAY_ERRORS),
)
async def refund_payment(payment_id: PathId, user: User) -> PaymentOut:
    return await refunds.refund_payment(user, payment_id)


@sandbox_router.post(
    "/payments/{payment_id}/sandbox/{outcome}",
    summary="Sandbox gateway only: make the payment succeed or fail (owner)",
    description="Only mounted with `PAYMENT_GATEWAY=sandbox` (never in production). Runs the webhook's event handling.",
    responses=error_responses(PaymentNotFound, IntentCanceled),
)
async def sandbox_outcome(payment_id: PathId, outcome: Literal["succeed", "fail"], user: User) -> PaymentOut:
    return await events.sandbox_outcome(user, payment_id, succeed=outcome == "succeed")


@router.post(
    "/webhooks/stripe",
    summary="Stripe webhook (signed with STRIPE_WEBHOOK_SECRET)",
    description=(
        "A Stripe event as JSON, verified over the raw body with the `Stripe-Signature` header. "
        "Always 200 once verified: `outcome` says whether it was applied, a duplicate, ignored, "
        "a mismatch (nothing changed) or about an unknown payment."
    ),
    responses=error_responses(InvalidWebhookSignature, InvalidWebhookEvent, WebhookNotConfigured),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "title": "Stripe event"}}},
        }
    },
)
async def stripe_webhook(
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookReceipt:
    return await events.handle_stripe_webhook(await request.body(), stripe_signature)


@router.post(
    "/orders/{order_id}/refund",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Ask for a refund of a paid order (owner)",
    tags=["orders"],
    responses=error_responses(OrderNotFound, OrderNotPaid, RefundAlreadyRequested),
)
async def request_refund(order_id: PathId, body: RefundRequestIn, user: User) -> RefundRequestOut:
    return await refunds.request_refund(user, order_id, body.reason)
