"""Commerce errors: one class per condition, each with its `code`, HTTP status and sentence.

The codes are public (docs/errors.md). A missing movie is
`cinema.catalog.errors.MovieNotFound` and a missing user
`cinema.accounts.errors.UserNotFound`, whichever domain notices it. Variable
facts go in extra fields of the error body (e.g. `status`), never in the
sentence, so one condition reads the same from every door.
"""

from __future__ import annotations

from cinema.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PaymentGatewayError,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)

__all__ = [
    "AlreadyInCart",
    "AlreadyPurchased",
    "AlreadyRefunded",
    "AlreadyRented",
    "AmountTooSmall",
    "CartItemNotFound",
    "EmptyCart",
    "GatewayRefused",
    "IllegalPaymentTransition",
    "InPendingOrder",
    "IntentCanceled",
    "InvalidDate",
    "InvalidDateRange",
    "InvalidRefundReason",
    "InvalidWebhookEvent",
    "InvalidWebhookSignature",
    "NotCartOwner",
    "NotRefundable",
    "NothingToPay",
    "OrderNotFound",
    "OrderNotPaid",
    "OrderNotPending",
    "PaymentGatewayError",
    "PaymentNotFound",
    "PaymentsNotConfigured",
    "RefundAlreadyRequested",
    "RefundFailed",
    "RefundNotFound",
    "RefundNotOpen",
    "RefundRequired",
    "RentalNotOffered",
    "SandboxOff",
    "StaffOnly",
    "WebhookNotConfigured",
]

# --- Access -------------------------------------------------------------------


class StaffOnly(PermissionDenied):
    """A staff view or decision asked for by a lower role; the body names `required_group`."""

    default_detail = "Your role may not do this."


class NotCartOwner(PermissionDenied):
    default_detail = "Only the cart's owner or a moderator may see or change this cart."


# --- Carts --------------------------------------------------------------------


class CartItemNotFound(NotFound):
    code = "not_in_cart"
    default_detail = "This movie is not in the cart."


class AlreadyInCart(Conflict):
    code = "already_in_cart"
    default_detail = "This movie is already in the cart."


class AlreadyPurchased(Conflict):
    code = "already_purchased"
    default_detail = "You already own this movie."


class AlreadyRented(Conflict):
    """Renting a movie while a rental of it still runs (buying it is allowed: the purchase supersedes it)."""

    code = "already_rented"
    default_detail = "You are already renting this movie; rent it again once the rental has ended."


class RentalNotOffered(Conflict):
    """Renting a movie without a `rental_price`, or paying for a rental withdrawn since the order."""

    code = "rental_not_offered"
    default_detail = "This movie is not offered for rent."


class InPendingOrder(Conflict):
    code = "in_pending_order"
    default_detail = "This movie is in one of your pending orders: pay or cancel that order first."


# --- Orders -------------------------------------------------------------------


class OrderNotFound(NotFound):
    """Also answers for another user's order, so its existence is not revealed."""

    code = "order_not_found"
    default_detail = "The order does not exist."


class EmptyCart(InvalidInput):
    """The body lists the cart's `removed_items` and why each was left out."""

    code = "empty_cart"
    default_detail = "There is nothing in the cart to order."


class OrderNotPending(Conflict):
    """The body carries the order's `status`."""

    code = "not_pending"
    default_detail = "Only a pending order can be paid or canceled."


class RefundRequired(Conflict):
    code = "refund_required"
    default_detail = "This order is paid: it can only be canceled through a refund."


class InvalidDate(ValidationFailed):
    code = "invalid_date"
    default_detail = "The date is outside the dates this filter supports."


class InvalidDateRange(InvalidInput):
    code = "invalid_date_range"
    default_detail = "date_from must not be after date_to."


# --- Payments -----------------------------------------------------------------


class PaymentNotFound(NotFound):
    """Also answers for another user's payment, so its existence is not revealed."""

    code = "payment_not_found"
    default_detail = "The payment does not exist."


class NothingToPay(Conflict):
    code = "nothing_to_pay"
    default_detail = "The order total is 0.00: there is nothing to pay. Cancel the order instead."


class IllegalPaymentTransition(Conflict):
    """A payment status change its lifecycle forbids; the body names `status` and `requested`."""

    code = "invalid_payment_transition"
    default_detail = "The payment cannot change to the requested status from its current one."


class IntentCanceled(Conflict):
    code = "intent_canceled"
    default_detail = "The payment was canceled at the gateway; it can no longer be paid or declined."


class SandboxOff(NotFound):
    """The sandbox routes exist only with `PAYMENT_GATEWAY=sandbox` (404 `not_found` otherwise)."""

    default_detail = "The sandbox gateway is off."


class PaymentsNotConfigured(ServiceUnavailable):
    code = "payments_not_configured"
    default_detail = (
        "Payments are not configured: set STRIPE_API_KEY (or PAYMENT_GATEWAY=sandbox outside production)."
    )


class WebhookNotConfigured(ServiceUnavailable):
    code = "webhook_not_configured"
    default_detail = "Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)."


class InvalidWebhookSignature(InvalidInput):
    code = "invalid_webhook_signature"
    default_detail = "The Stripe-Signature header does not verify."


class InvalidWebhookEvent(InvalidInput):
    code = "invalid_event"
    default_detail = "The webhook body is not a well-formed Stripe event."


class AmountTooSmall(Conflict):
    """Below the gateway's minimum charge; the body carries the provider's `provider_message`."""

    code = "amount_too_small"
    default_detail = "The amount is below the payment provider's minimum charge."


class GatewayRefused(PaymentGatewayError):
    """The gateway answered but refused; the body carries its `provider_message`."""

    default_detail = "The payment provider refused the request."


class RefundFailed(PaymentGatewayError):
    """The gateway answered with a refund that did not go through; the body carries its `gateway_status`."""

    default_detail = "The payment provider did not complete the refund."


# --- Refunds ------------------------------------------------------------------


class RefundNotFound(NotFound):
    code = "refund_request_not_found"
    default_detail = "The refund request does not exist."


class InvalidRefundReason(ValidationFailed):
    code = "invalid_reason"
    default_detail = "Say why you want a refund."


class OrderNotPaid(Conflict):
    """The body carries the order's `status`."""

    code = "not_paid"
    default_detail = "Only a paid order can be refunded."


class RefundAlreadyRequested(Conflict):
    """The body carries the open request's `refund_request_id`."""

    code = "refund_already_requested"
    default_detail = "A refund of this order is already requested."


class RefundNotOpen(Conflict):
    """The request was already decided; the body carries its `status`."""

    code = "refund_not_open"
    default_detail = "This refund request is already decided."


class AlreadyRefunded(Conflict):
    code = "already_refunded"
    default_detail = "This payment is already refunded."


class NotRefundable(Conflict):
    """No successful payment to refund; the body carries the payment's `status` when there is one."""

    code = "not_refundable"
    default_detail = "Only a successful payment can be refunded."
