"""Refunds: the owner's request, the staff decision, and applying a refund.

Rules (docs/api.md, "Orders" and "Payments"):
- A paid order is canceled only through a refund: its owner asks
  (`request_refund`, 202, status `requested`); a second open request, or an
  order that is not paid, is 409.
- An ADMIN approves (`approve_request`) or refunds a payment directly
  (`refund_payment`): the whole amount is refunded through the gateway
  (`refunds.create(payment_intent=...)`), then in the same transaction the
  payment becomes `refunded`, the order `canceled`, its purchase rows are
  removed (`purchases_count` counters -1) and its entitlements revoked
  (`revoke_for_refund`), open refund requests of the order become
  `refunded`, and `refund_processed` is emailed after commit. A gateway
  failure (502) changes nothing.
- `charge.refunded` (Stripe's event for the same refund) reaches
  `apply_refund` through `cinema.commerce.events` and is a no-op once applied.
- `reject_request` marks the request `rejected` and emails the note.
- Each decision records who took it (`decided_by`): the deciding ADMIN's
  account, or NULL for an actor without one (the CLI operator when no
  `--as` account is named).
"""

from __future__ import annotations

from typing import Any

from cinema.accounts.actor import CurrentUser
from cinema.catalog import counters
from cinema.clock import utcnow
from cinema.commerce.access import REFUND_DECIDERS, recorded_id, require_role
from cinema.commerce.errors import (
    AlreadyRefunded,
    InvalidRefundReason,
    NotRefundable,
    OrderNotPaid,
    PaymentNotFound,
    RefundAlreadyRequested,
    RefundNotFound,
)
from cinema.commerce.gateways import get_gateway
from cinema.commerce.payments import payment_out
from cinema.commerce.rows import (
    email_of,
    lock_order,
    lock_order_of,
    lock_payment,
    set_order_status,
    set_payment_status,
)
from cinema.commerce.schemas import PaymentOut, RefundRequestOut
from cinema.commerce.statuses import (
    OPEN_REFUNDS,
    REFUND,
    REFUNDABLE_ORDERS,
    REFUNDABLE_PAYMENTS,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
    values,
)
from cinema.commerce.tables import OrderItem, Payment, Purchase, RefundRequest
from cinema.db import AfterCommit, transaction
from cinema.entitlements import service as entitlements
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


async def _load_request(request_id: int) -> RefundRequestOut:
    """One refund request. Raises `RefundNotFound` (404)."""
    row = await RefundRequest.select(*_REQUEST_COLUMNS).where(RefundRequest.id == request_id).first().run()
    if row is None:
        raise RefundNotFound()
    return _request_out(row)


async def _paid_by(order_id: int) -> dict[str, Any] | None:
    """The payment that paid an order and still holds the money, if any."""
    row: dict[str, Any] | None = (
        await Payment.select(Payment.id)
        .where(Payment.order == order_id, Payment.status.is_in(values(REFUNDABLE_PAYMENTS)))
        .order_by(Payment.id)
        .first()
        .run()
    )
    return row


async def request_refund(actor: CurrentUser, order_id: int, reason: str) -> RefundRequestOut:
    """The owner asks for the money back on a paid order; returns the `requested` request.

    Raises `OrderNotFound` (404) for a missing or another user's order,
    `OrderNotPaid` (409) when the order is not paid, `RefundAlreadyRequested`
    (409) when a request for it is still open, and `InvalidRefundReason` (422)
    for a reason that is blank once stripped (the API's body model already
    refuses it).
    """
    if not reason.strip():
        raise InvalidRefundReason()
    async with transaction():
        order = await lock_order_of(actor, order_id)
        if order["status"] not in REFUNDABLE_ORDERS:
            raise OrderNotPaid(status=order["status"])
        open_request = (
            await RefundRequest.select(RefundRequest.id)
            .where(RefundRequest.order == order_id, RefundRequest.status.is_in(values(OPEN_REFUNDS)))
            .first()
            .run()
        )
        if open_request is not None:
            raise RefundAlreadyRequested(refund_request_id=int(open_request["id"]))
        paid_by = await _paid_by(order_id)
        request = RefundRequest(
            order=order_id,
            user=actor.id,
            payment=paid_by["id"] if paid_by else None,
            reason=reason.strip(),
            status=RefundStatus.REQUESTED,
            created_at=utcnow(),
            external_refund_id=None,  # Piccolo's Varchar default is "", not NULL
        )
        await request.save()
    return await _load_request(int(request.id))


async def apply_refund(
    order: dict[str, Any],
    payment: dict[str, Any],
    *,
    refund_id: str | None,
    decided_by: int | None,
    hooks: AfterCommit,
) -> None:
    """Record a whole refund of `payment` (rows from `rows.lock_order`/`lock_payment`, both locked).

    The payment becomes `refunded`. When it is the payment that paid the order,
    the order becomes `canceled` and its purchases are revoked (counters -1).
    Open refund requests of the order become `refunded`; the owner is emailed
    `refund_processed` after commit when money had been taken.
    """
    took_money = payment["status"] in REFUNDABLE_PAYMENTS
    await set_payment_status(payment, PaymentStatus.REFUNDED)
    other_paid = (
        await Payment.count()
        .where(
            Payment.order == order["id"],
            Payment.status.is_in(values(REFUNDABLE_PAYMENTS)),
            Payment.id != payment["id"],
        )
        .run()
    )
    if took_money and order["status"] in REFUNDABLE_ORDERS and not other_paid:
        await set_order_status(order, OrderStatus.CANCELED)
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
        .where(RefundRequest.order == order["id"], RefundRequest.status.is_in(values(OPEN_REFUNDS)))
        .run()
    )
    if took_money:
        hooks.add(
            enqueue_email(
                "refund_processed",
                await email_of(int(payment["user_id"])),
                order_id=int(order["id"]),
                amount=format_amount(payment["amount"]),
                currency=str(payment["currency"]),
            )
        )


async def refund_payment(actor: CurrentUser, payment_id: int, *, request_id: int | None = None) -> PaymentOut:
    """Refund a successful payment in full through the gateway, then apply it (see module rules): ADMIN.

    `request_id`, when given, must still be open once the order is locked.
    Raises `StaffOnly` (403), `PaymentNotFound` (404), `AlreadyRefunded`,
    `NotRefundable` unless the payment is successful, `RefundNotOpen` (409),
    and `PaymentGatewayError` (502; nothing changes).
    """
    require_role(actor, REFUND_DECIDERS)
    row = (
        await Payment.select(Payment.order.as_alias("order_id")).where(Payment.id == payment_id).first().run()
    )
    if row is None:
        raise PaymentNotFound()
    gateway = get_gateway()
    async with transaction() as hooks:
        order = await lock_order(int(row["order_id"]))
        payment = await lock_payment(payment_id)
        assert order is not None
        assert payment is not None
        if request_id is not None:
            await _ensure_open(request_id, RefundStatus.REFUNDED)
        if payment["status"] == PaymentStatus.REFUNDED:
            raise AlreadyRefunded()
        if payment["status"] not in REFUNDABLE_PAYMENTS or not payment["external_payment_id"]:
            raise NotRefundable(status=payment["status"])
        refund = await gateway.refund(
            intent_id=payment["external_payment_id"],
            amount=to_minor_units(payment["amount"], payment["currency"]),
            idempotency_key=f"cinema-refund-payment-{payment_id}",
        )
        await apply_refund(order, payment, refund_id=refund.id, decided_by=recorded_id(actor), hooks=hooks)
    return await payment_out(payment_id)


async def _ensure_open(request_id: int, decision: RefundStatus) -> RefundRequestOut:
    """The request, when it may still take `decision`; else `RefundNotOpen` (409)."""
    request = await _load_request(request_id)
    REFUND.transition(request.status, decision)
    return request


async def approve_request(actor: CurrentUser, request_id: int) -> RefundRequestOut:
    """Approve an open refund request: refund its order's payment (`refund_payment`). ADMIN.

    Raises `StaffOnly` (403), `RefundNotFound` (404), `RefundNotOpen` (409)
    when it is already refunded or rejected, `NotRefundable` (409) when the
    order has no successful payment, and whatever `refund_payment` raises.
    """
    require_role(actor, REFUND_DECIDERS)
    request = await _ensure_open(request_id, RefundStatus.REFUNDED)
    payment_id = request.payment_id
    if payment_id is None:
        paid_by = await _paid_by(request.order_id)
        if paid_by is None:
            raise NotRefundable()
        payment_id = int(paid_by["id"])
    await refund_payment(actor, payment_id, request_id=request_id)
    return await _load_request(request_id)


async def reject_request(actor: CurrentUser, request_id: int, note: str) -> RefundRequestOut:
    """Reject an open refund request; `note` is stored and emailed to the owner. ADMIN.

    Raises `StaffOnly` (403), `RefundNotFound` (404) and `RefundNotOpen` (409).
    """
    require_role(actor, REFUND_DECIDERS)
    order_id = (await _load_request(request_id)).order_id
    async with transaction() as hooks:
        await lock_order(order_id)
        request = await _ensure_open(request_id, RefundStatus.REJECTED)
        await (
            RefundRequest.update(
                {
                    RefundRequest.status: RefundStatus.REJECTED,
                    RefundRequest.decided_at: utcnow(),
                    RefundRequest.decided_by: recorded_id(actor),
                    RefundRequest.decision_note: note.strip(),
                }
            )
            .where(RefundRequest.id == request_id, RefundRequest.status.is_in(values(OPEN_REFUNDS)))
            .run()
        )
        hooks.add(
            enqueue_email(
                "refund_rejected",
                await email_of(request.user_id),
                order_id=request.order_id,
                note=note.strip(),
            )
        )
    return await _load_request(request_id)


async def list_requests(
    actor: CurrentUser,
    params: PageParams,
    *,
    status: RefundStatus | None = None,
    user_id: int | None = None,
) -> Page[RefundRequestOut]:
    """Refund requests, oldest first (status and user filters optional), paged: ADMIN.

    Raises `StaffOnly` (403).
    """
    require_role(actor, REFUND_DECIDERS)
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
