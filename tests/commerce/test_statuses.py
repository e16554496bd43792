"""The status lifecycles (`cinema.commerce.statuses`) and the services that follow them.

First the tables themselves, every (current, new) pair of each enum against
the rules written out here once more; then the services, called directly on
the real database with a row in each status: what is legal happens, what is
not raises its typed error and writes nothing.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from cinema.commerce import errors, events, orders, payments, refunds
from cinema.commerce.gateways.base import (
    CHARGE_REFUNDED,
    HANDLED_EVENT_TYPES,
    PAYMENT_FAILED,
    PAYMENT_SUCCEEDED,
    GatewayEvent,
)
from cinema.commerce.rows import lock_payment, set_payment_status
from cinema.commerce.statuses import (
    OPEN_ORDERS,
    OPEN_PAYMENTS,
    OPEN_REFUNDS,
    ORDER,
    PAYABLE_PAYMENTS,
    PAYMENT,
    REFUND,
    REFUNDABLE_ORDERS,
    REFUNDABLE_PAYMENTS,
    Lifecycle,
    OrderStatus,
    PaymentStatus,
    RefundStatus,
)
from cinema.commerce.tables import Order, Payment, RefundRequest
from cinema.db import transaction
from cinema.errors import CinemaError

# --- The tables ---------------------------------------------------------------

LEGAL_ORDER_MOVES = {
    (OrderStatus.PENDING, OrderStatus.PAID),
    (OrderStatus.PENDING, OrderStatus.CANCELED),
    (OrderStatus.PAID, OrderStatus.CANCELED),
}
LEGAL_PAYMENT_MOVES = {
    (PaymentStatus.PENDING, PaymentStatus.SUCCESSFUL),
    (PaymentStatus.PENDING, PaymentStatus.CANCELED),
    (PaymentStatus.PENDING, PaymentStatus.REFUNDED),
    (PaymentStatus.CANCELED, PaymentStatus.SUCCESSFUL),
    (PaymentStatus.CANCELED, PaymentStatus.REFUNDED),
    (PaymentStatus.SUCCESSFUL, PaymentStatus.REFUNDED),
}
LEGAL_REFUND_MOVES = {
    (RefundStatus.REQUESTED, RefundStatus.REFUNDED),
    (RefundStatus.REQUESTED, RefundStatus.REJECTED),
}

TABLES: list[tuple[Lifecycle[Any], set[tuple[Any, Any]], type[CinemaError], str]] = [
    (ORDER, LEGAL_ORDER_MOVES, errors.OrderNotPending, "not_pending"),
    (PAYMENT, LEGAL_PAYMENT_MOVES, errors.IllegalPaymentTransition, "invalid_payment_transition"),
    (REFUND, LEGAL_REFUND_MOVES, errors.RefundNotOpen, "refund_not_open"),
]


@pytest.mark.parametrize(
    ("lifecycle", "legal", "refused", "code"), TABLES, ids=["order", "payment", "refund"]
)
def test_every_move_of_every_status_is_legal_or_refused_with_its_error(
    lifecycle: Lifecycle[Any], legal: set[tuple[Any, Any]], refused: type[CinemaError], code: str
) -> None:
    for current, new in itertools.product(lifecycle.kind, repeat=2):
        assert lifecycle.can_transition(current, new) is ((current, new) in legal), (current, new)
        assert lifecycle.can_transition(current.value, new) is ((current, new) in legal)
        if (current, new) in legal:
            assert lifecycle.transition(current.value, new) is new
            continue
        with pytest.raises(refused) as refusal:
            lifecycle.transition(current, new)
        assert refusal.value.code == code
        assert refusal.value.extra == {"status": current.value, "requested": new.value}


def test_final_statuses_are_those_nothing_leaves() -> None:
    assert ORDER.final == {OrderStatus.CANCELED}
    assert PAYMENT.final == {PaymentStatus.REFUNDED}
    assert REFUND.final == {RefundStatus.REFUNDED, RefundStatus.REJECTED}


def test_groupings_agree_with_the_tables() -> None:
    # An open order is one that may still be paid; a refundable one is paid and only a refund cancels it.
    assert ORDER.sources(OrderStatus.PAID) == OPEN_ORDERS == {OrderStatus.PENDING}
    assert {OrderStatus.PAID} == REFUNDABLE_ORDERS
    assert ORDER.sources(OrderStatus.CANCELED) >= REFUNDABLE_ORDERS
    # A payable payment is one that may still succeed; an open one waits for its first outcome.
    assert PAYMENT.sources(PaymentStatus.SUCCESSFUL) == PAYABLE_PAYMENTS
    assert OPEN_PAYMENTS == {PaymentStatus.PENDING} < PAYABLE_PAYMENTS
    assert REFUNDABLE_PAYMENTS == {PaymentStatus.SUCCESSFUL} <= PAYMENT.sources(PaymentStatus.REFUNDED)
    # An open refund request may take either decision.
    assert OPEN_REFUNDS == REFUND.sources(RefundStatus.REFUNDED) == REFUND.sources(RefundStatus.REJECTED)


def test_a_lifecycle_must_give_every_status_a_row() -> None:
    with pytest.raises(ValueError, match="no row for"):
        Lifecycle(OrderStatus, {OrderStatus.PENDING: set()}, refused=errors.OrderNotPending)


# --- The services, one row per status -------------------------------------------

INTENT = "pi_sandbox_statuses"


async def _order_in(status: OrderStatus, make_user: Any, make_movie: Any, make_order: Any) -> tuple[Any, int]:
    owner = await make_user()
    movie = await make_movie(price="4.20")
    return owner, await make_order(owner.id, [movie.id], status)


async def _payment_in(status: PaymentStatus, owner_id: int, order_id: int) -> int:
    payment = Payment(
        user=owner_id,
        order=order_id,
        status=status,
        amount=Decimal("4.20"),
        currency="usd",
        external_payment_id=INTENT,
        client_secret=f"{INTENT}_secret",
        failure_reason=None,
    )
    await payment.save()
    return int(payment.id)


async def _order_status(order_id: int) -> str:
    row = await Order.select(Order.status).where(Order.id == order_id).first().run()
    assert row is not None
    return str(row["status"])


async def _payment_status(payment_id: int) -> str:
    row = await Payment.select(Payment.status).where(Payment.id == payment_id).first().run()
    assert row is not None
    return str(row["status"])


CANCEL_OUTCOMES = {
    OrderStatus.PENDING: None,
    OrderStatus.PAID: "refund_required",
    OrderStatus.CANCELED: "not_pending",
}


@pytest.mark.parametrize("status", list(OrderStatus))
async def test_cancel_order_from_each_status(status, make_user, make_movie, make_order) -> None:
    owner, order_id = await _order_in(status, make_user, make_movie, make_order)
    expected = CANCEL_OUTCOMES[status]

    if expected is None:
        assert (await orders.cancel_order(owner.actor, order_id)).status is OrderStatus.CANCELED
        return
    with pytest.raises(CinemaError) as refused:
        await orders.cancel_order(owner.actor, order_id)
    assert (refused.value.status_code, refused.value.code) == (409, expected)
    assert await _order_status(order_id) == status.value


@pytest.mark.parametrize("status", list(OrderStatus))
async def test_paying_is_only_for_an_order_that_may_become_paid(
    status, make_user, make_movie, make_order
) -> None:
    owner, order_id = await _order_in(status, make_user, make_movie, make_order)

    if ORDER.can_transition(status, OrderStatus.PAID):
        created = await payments.create_payment(owner.actor, order_id)
        assert (created.status, created.amount) == (PaymentStatus.PENDING, Decimal("4.20"))
        return
    with pytest.raises(errors.OrderNotPending) as refused:
        await payments.create_payment(owner.actor, order_id)
    assert refused.value.extra == {"status": status.value, "requested": "paid"}
    assert await Payment.count().where(Payment.order == order_id).run() == 0


@pytest.mark.parametrize("status", list(OrderStatus))
async def test_a_refund_is_asked_only_for_a_refundable_order(
    status, make_user, make_movie, make_order
) -> None:
    owner, order_id = await _order_in(status, make_user, make_movie, make_order)

    if status in REFUNDABLE_ORDERS:
        asked = await refunds.request_refund(owner.actor, order_id, "Wrong film")
        assert (asked.status, asked.order_id) == (RefundStatus.REQUESTED, order_id)
        return
    with pytest.raises(errors.OrderNotPaid) as refused:
        await refunds.request_refund(owner.actor, order_id, "Wrong film")
    assert refused.value.extra == {"status": status.value}
    assert await RefundRequest.count().where(RefundRequest.order == order_id).run() == 0


REFUND_PAYMENT_OUTCOMES = {
    PaymentStatus.SUCCESSFUL: None,
    PaymentStatus.REFUNDED: "already_refunded",
    PaymentStatus.PENDING: "not_refundable",
    PaymentStatus.CANCELED: "not_refundable",
}


@pytest.mark.parametrize("status", list(PaymentStatus))
async def test_staff_refund_from_each_payment_status(status, make_user, make_movie, make_order) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    owner, order_id = await _order_in(OrderStatus.PAID, make_user, make_movie, make_order)
    payment_id = await _payment_in(status, owner.id, order_id)
    expected = REFUND_PAYMENT_OUTCOMES[status]

    if expected is None:
        refunded = await refunds.refund_payment(admin.actor, payment_id)
        assert refunded.status is PaymentStatus.REFUNDED
        assert await _order_status(order_id) == "canceled"
        return
    with pytest.raises(CinemaError) as refused:
        await refunds.refund_payment(admin.actor, payment_id)
    assert (refused.value.status_code, refused.value.code) == (409, expected)
    assert (await _payment_status(payment_id), await _order_status(order_id)) == (status.value, "paid")


@pytest.mark.parametrize("status", list(RefundStatus))
@pytest.mark.parametrize("decision", [RefundStatus.REFUNDED, RefundStatus.REJECTED])
async def test_only_an_open_request_is_decided(status, decision, make_user, make_movie, make_order) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    owner, order_id = await _order_in(OrderStatus.PAID, make_user, make_movie, make_order)
    payment_id = await _payment_in(PaymentStatus.SUCCESSFUL, owner.id, order_id)
    request = RefundRequest(
        order=order_id,
        user=owner.id,
        payment=payment_id,
        reason="Meh",
        status=status,
        external_refund_id=None,
    )
    await request.save()
    decide = (
        refunds.approve_request(admin.actor, int(request.id))
        if decision is RefundStatus.REFUNDED
        else refunds.reject_request(admin.actor, int(request.id), "No.")
    )

    if REFUND.can_transition(status, decision):
        decided = await decide
        assert (decided.status, decided.decided_at is not None) == (decision, True)
        return
    with pytest.raises(errors.RefundNotOpen) as refused:
        await decide
    assert refused.value.extra == {"status": status.value, "requested": decision.value}
    row = await RefundRequest.select(RefundRequest.status).where(RefundRequest.id == request.id).first().run()
    assert row == {"status": status.value}
    assert await _payment_status(payment_id) == "successful"


EVENT_TARGETS = {
    PAYMENT_SUCCEEDED: PaymentStatus.SUCCESSFUL,
    PAYMENT_FAILED: PaymentStatus.CANCELED,
    CHARGE_REFUNDED: PaymentStatus.REFUNDED,
}


def test_every_handled_event_names_the_status_it_moves_to() -> None:
    assert events.EVENT_MOVES == EVENT_TARGETS
    assert set(EVENT_TARGETS) == HANDLED_EVENT_TYPES


@pytest.mark.parametrize("status", list(PaymentStatus))
@pytest.mark.parametrize("event_type", list(EVENT_TARGETS))
async def test_a_gateway_event_applies_only_a_legal_move(
    status, event_type, make_user, make_movie, make_order
) -> None:
    """Events arrive late and out of order: one whose move the lifecycle forbids is ignored."""
    owner, order_id = await _order_in(OrderStatus.PENDING, make_user, make_movie, make_order)
    payment_id = await _payment_in(status, owner.id, order_id)
    target = EVENT_TARGETS[event_type]

    receipt = await events.apply_event(
        GatewayEvent(
            id=f"evt_{event_type}_{status}",
            type=event_type,
            intent_id=INTENT,
            amount=420,
            currency="usd",
            refund_id="re_statuses",
            fully_refunded=True,
        )
    )

    if PAYMENT.can_transition(status, target):
        assert receipt.outcome == events.Outcome.APPLIED
        assert await _payment_status(payment_id) == target.value
        assert await _order_status(order_id) == ("paid" if target is PaymentStatus.SUCCESSFUL else "pending")
    else:
        assert receipt.outcome == events.Outcome.IGNORED
        assert (await _payment_status(payment_id), await _order_status(order_id)) == (status.value, "pending")


async def test_an_illegal_payment_move_raises_and_writes_nothing(make_user, make_movie, make_order) -> None:
    owner, order_id = await _order_in(OrderStatus.CANCELED, make_user, make_movie, make_order)
    payment_id = await _payment_in(PaymentStatus.REFUNDED, owner.id, order_id)

    async def revive() -> None:
        async with transaction():
            payment = await lock_payment(payment_id)
            assert payment is not None
            await set_payment_status(payment, PaymentStatus.SUCCESSFUL, {Payment.failure_reason: "x"})

    with pytest.raises(errors.IllegalPaymentTransition):
        await revive()

    row = (
        await Payment.select(Payment.status, Payment.failure_reason)
        .where(Payment.id == payment_id)
        .first()
        .run()
    )
    assert row == {"status": "refunded", "failure_reason": None}
