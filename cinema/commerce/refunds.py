"""Refunds: the owner's request, the admin's approval or rejection, and applying a refund.

Rules (API.md "Orders" and "Payments", issue 4):
- A paid order is canceled only through a refund: its owner asks
  (`request_refund`, 202, status `requested`); a second open request, or an
  order that is not paid, is 409.
- An admin approves (`POST /payments/{payment_id}/refund` -> `refund_payment`,
  or `cinema refunds approve ID` -> `approve_request`): the whole amount is
  refunded through the gateway (`refunds.create(payment_intent=...)`), then in
  the same transaction the payment becomes `refunded`, the order `canceled`,
  its purchase rows are removed (`purchases_count` counters -1) and its
  entitlements revoked (`revoke_for_refund`), open refund
  requests of the order become `refunded`, and `refund_processed` is emailed
  after commit. A gateway failure (502) changes nothing.
- `charge.refunded` (Stripe's event for the same refund) reaches
  `apply_refund` through `cinema.commerce.events` and is a no-op once applied.
- `reject_request` marks the request `rejected` and emails the note.
"""

from __future__ import annotations

from typing import Any

from cinema.accounts.tables import User
from cinema.catalog import counters
from cinema.clock import utcnow
from cinema.commerce.gateways import get_gateway
from cinema.commerce.payments import lock_order, lock_payment, payment_out
from cinema.commerce.schemas import PaymentOut, RefundRequestOut
from cinema.commerce.tables import (
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    Purchase,
    RefundRequest,
    RefundStatus,
)
from cinema.db import AfterCommit, transaction
from cinema.entitlements import service as entitlements
from cinema.errors import Conflict, NotFound, ValidationFailed
from cinema.jobs import enqueue_email
from cinema.money import format_amount, to_minor_units
from cinema.pagination import Page, PageParams

_REQUEST_COLUMNS = (
    RefundRequest.id,
    RefundRequest.order.as_alias("order_id"),
    RefundRequest.user.as_alias("user_id"),
    RefundRequest.payment.as_alias("payment_id"),
    RefundRequest.reason,
    RefundRequest.status,
    RefundRequest.created_at,
    RefundRequest.decided_at,
    RefundRequest.external_refund_id,
    RefundRequest.decision_note,
)


def _request_out(row: dict[str, Any]) -> RefundRequestOut:
    return RefundRequestOut(
        id=int(row["id"]),
        order_id=int(row["order_id"]),
        user_id=int(row["user_id"]),
        payment_id=row["payment_id"],
        reason=str(row["reason"]),
        status=RefundStatus(row["status"]),
        created_at=row["created_at"],
        decided_at=row["decided_at"],
        external_refund_id=row["external_refund_id"],
        decision_note=row["decision_note"],
    )


async def get_request(request_id: int) -> RefundRequestOut:
    """One refund request. Raises `NotFound` (`refund_request_not_found`)."""
    row = await RefundRequest.select(*_REQUEST_COLUMNS).where(RefundRequest.id == request_id).first().run()
    if row is None:
        raise NotFound("Refund request not found.", code="refund_request_not_found")
    return _request_out(row)


async def _email_of(user_id: int) -> str:
    row = await User.select(User.email).where(User.id == user_id).first().run()
    return str(row["email"]) if row else ""


async def _paid_by(order_id: int) -> dict[str, Any] | None:
    """The successful payment of an order (the one that paid it), if any."""
    row: dict[str, Any] | None = (
        await Payment.select(Payment.id)
        .where(Payment.order == order_id, Payment.status == PaymentStatus.SUCCESSFUL)
        .order_by(Payment.id)
        .first()
        .run()
    )
    return row


async def request_refund(user_id: int, order_id: int, reason: str) -> RefundRequestOut:
    """The owner asks for the money back on a paid order; returns the `requested` request.

    Raises `NotFound` (`order_not_found`) for a missing or another user's order,
    `Conflict` (`not_paid`) when the order is not paid, and `Conflict`
    (`refund_already_requested`) when a request for it is still open, and
    `ValidationFailed` (422, `invalid_reason`) for a reason that is blank once
    stripped (the API's body model already refuses it).
    """
    if not reason.strip():
        raise ValidationFailed("Say why you want a refund.", code="invalid_reason")
    async with transaction():
        order = await lock_order(order_id)
        if order is None or order["user_id"] != user_id:
            raise NotFound("Order not found.", code="order_not_found")
        if order["status"] != OrderStatus.PAID:
            raise Conflict(
                f"Order #{order_id} is {order['status']}; only a paid order can be refunded.", code="not_paid"
            )
        open_request = (
            await RefundRequest.select(RefundRequest.id)
            .where(RefundRequest.order == order_id, RefundRequest.status == RefundStatus.REQUESTED)
            .first()
            .run()
        )
        if open_request is not None:
            raise Conflict(
                f"A refund of order #{order_id} is already requested (request #{open_request['id']}).",
                code="refund_already_requested",
                refund_request_id=int(open_request["id"]),
            )
        paid_by = await _paid_by(order_id)
        request = RefundRequest(
            order=order_id,
            user=user_id,
            payment=paid_by["id"] if paid_by else None,
            reason=reason.strip(),
            status=RefundStatus.REQUESTED,
            created_at=utcnow(),
            external_refund_id=None,  # Piccolo's Varchar default is "", not NULL
        )
        await request.save()
    return await get_request(int(request.id))


async def apply_refund(
    order: dict[str, Any],
    payment: dict[str, Any],
    *,
    refund_id: str | None,
    decided_by: int | None,
    hooks: AfterCommit,
) -> None:
    """Record a whole refund of `payment` (rows from `lock_order`/`lock_payment`, both locked).

    The payment becomes `refunded`. When it is the payment that paid the order,
    the order becomes `canceled` and its purchases are revoked (counters -1).
    Open refund requests of the order become `refunded`; the owner is emailed
    `refund_processed` after commit when money had been taken.
    """
    was_successful = payment["status"] == PaymentStatus.SUCCESSFUL
    await Payment.update({Payment.status: PaymentStatus.REFUNDED}).where(Payment.id == payment["id"]).run()
    other_paid = (
        await Payment.count()
        .where(
            Payment.order == order["id"],
            Payment.status == PaymentStatus.SUCCESSFUL,
            Payment.id != payment["id"],
        )
        .run()
    )
    if was_successful and order["status"] == OrderStatus.PAID and not other_paid:
        await Order.update({Order.status: OrderStatus.CANCELED}).where(Order.id == order["id"]).run()
        revoked = (
            await Purchase.select(Purchase.movie.as_alias("movie_id"))
            .where(Purchase.order == order["id"])
            .run()
        )
        if revoked:
            await Purchase.delete().where(Purchase.order == order["id"]).run()
            await counters.bump([int(r["movie_id"]) for r in revoked], purchases_count=-1)
        items = await OrderItem.select(OrderItem.id).where(OrderItem.order == order["id"]).run()
        await entitlements.revoke_for_refund([int(r["id"]) for r in items])
    await (
        RefundRequest.update(
            {
                RefundRequest.status: RefundStatus.REFUNDED,
                RefundRequest.decided_at: utcnow(),
                RefundRequest.decided_by: decided_by,
                RefundRequest.external_refund_id: refund_id,
                RefundRequest.payment: payment["id"],
            }
        )
        .where(RefundRequest.order == order["id"], RefundRequest.status == RefundStatus.REQUESTED)
        .run()
    )
    if was_successful:
        hooks.add(
            enqueue_email(
                "refund_processed",
                await _email_of(int(payment["user_id"])),
                order_id=int(order["id"]),
                amount=format_amount(payment["amount"]),
                currency=str(payment["currency"]),
            )
        )


async def refund_payment(
    payment_id: int, *, decided_by: int | None = None, request_id: int | None = None
) -> PaymentOut:
    """Refund a successful payment in full through the gateway, then apply it (see module rules).

    `decided_by` is the approving admin's user id (None from the CLI);
    `request_id`, when given, must still be open once the order is locked.
    Raises `NotFound` (`payment_not_found`), `Conflict` (`already_refunded`,
    `not_refundable` unless the payment is successful, `refund_not_open`), and
    `PaymentGatewayError` (502; nothing changes).
    """
    row = (
        await Payment.select(Payment.order.as_alias("order_id")).where(Payment.id == payment_id).first().run()
    )
    if row is None:
        raise NotFound("Payment not found.", code="payment_not_found")
    gateway = get_gateway()
    async with transaction() as hooks:
        order = await lock_order(int(row["order_id"]))
        payment = await lock_payment(payment_id)
        assert order is not None
        assert payment is not None
        if request_id is not None:
            await _ensure_open(request_id)
        if payment["status"] == PaymentStatus.REFUNDED:
            raise Conflict(f"Payment #{payment_id} is already refunded.", code="already_refunded")
        if payment["status"] != PaymentStatus.SUCCESSFUL or not payment["external_payment_id"]:
            raise Conflict(
                f"Payment #{payment_id} is {payment['status']}; only a successful payment can be refunded.",
                code="not_refundable",
            )
        refund = await gateway.refund(
            intent_id=payment["external_payment_id"],
            amount=to_minor_units(payment["amount"], payment["currency"]),
            idempotency_key=f"cinema-refund-payment-{payment_id}",
        )
        await apply_refund(order, payment, refund_id=refund.id, decided_by=decided_by, hooks=hooks)
    return await payment_out(payment_id)


async def _ensure_open(request_id: int) -> RefundRequestOut:
    request = await get_request(request_id)
    if request.status != RefundStatus.REQUESTED:
        raise Conflict(f"Refund request #{request_id} is already {request.status}.", code="refund_not_open")
    return request


async def approve_request(request_id: int, *, decided_by: int | None = None) -> RefundRequestOut:
    """Approve an open refund request: refund its order's payment (`refund_payment`).

    Raises `NotFound` (`refund_request_not_found`), `Conflict`
    (`refund_not_open`) when it is already refunded or rejected, and whatever
    `refund_payment` raises.
    """
    request = await _ensure_open(request_id)
    payment_id = request.payment_id
    if payment_id is None:
        paid_by = await _paid_by(request.order_id)
        if paid_by is None:
            raise Conflict(
                f"Order #{request.order_id} has no successful payment to refund.", code="not_refundable"
            )
        payment_id = int(paid_by["id"])
    await refund_payment(payment_id, decided_by=decided_by, request_id=request_id)
    return await get_request(request_id)


async def reject_request(request_id: int, note: str, *, decided_by: int | None = None) -> RefundRequestOut:
    """Reject an open refund request; `note` is stored and emailed to the owner.

    Raises `NotFound` (`refund_request_not_found`) and `Conflict` (`refund_not_open`).
    """
    order_id = (await get_request(request_id)).order_id
    async with transaction() as hooks:
        await lock_order(order_id)
        request = await _ensure_open(request_id)
        await (
            RefundRequest.update(
                {
                    RefundRequest.status: RefundStatus.REJECTED,
                    RefundRequest.decided_at: utcnow(),
                    RefundRequest.decided_by: decided_by,
                    RefundRequest.decision_note: note.strip(),
                }
            )
            .where(RefundRequest.id == request_id, RefundRequest.status == RefundStatus.REQUESTED)
            .run()
        )
        hooks.add(
            enqueue_email(
                "refund_rejected",
                await _email_of(request.user_id),
                order_id=request.order_id,
                note=note.strip(),
            )
        )
    return await get_request(request_id)


async def list_requests(
    params: PageParams, *, status: RefundStatus | None = None, user_id: int | None = None
) -> Page[RefundRequestOut]:
    """Refund requests, oldest open first (status filter optional), paged."""
    where = []
    if status is not None:
        where.append(RefundRequest.status == status)
    if user_id is not None:
        where.append(RefundRequest.user == user_id)
    query = RefundRequest.select(*_REQUEST_COLUMNS)
    count = RefundRequest.count()
    if where:
        query = query.where(*where)
        count = count.where(*where)
    rows = await query.order_by(RefundRequest.id).limit(params.per_page).offset(params.offset).run()
    return Page[RefundRequestOut].build([_request_out(r) for r in rows], params, await count.run())
