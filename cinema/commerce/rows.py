"""The order and payment rows as every commerce write takes them: locked, checked, moved.

Lock order: every write that touches an order's payments locks the order row
first, then its payments, so creation, cancellation, gateway events and
refunds of one order run one at a time and never deadlock. Locks are
`cinema.db.locked` in `NO KEY UPDATE` mode, so order items and payments may
still be inserted while the order is held.

Status changes go through `set_order_status` and `set_payment_status`, which
ask the lifecycles (`cinema.commerce.statuses`) first: an illegal move raises
and writes nothing.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Column

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.accounts.tables import User
from cinema.commerce.access import owner_or
from cinema.commerce.errors import OrderNotFound
from cinema.commerce.statuses import ORDER, PAYMENT, OrderStatus, PaymentStatus
from cinema.commerce.tables import Order, Payment
from cinema.db import locked
from cinema.money import money

ORDER_COLUMNS = (
    Order.id,
    Order.user.as_alias("user_id"),
    Order.status,
    Order.total_amount,
)

PAYMENT_COLUMNS = (
    Payment.id,
    Payment.user.as_alias("user_id"),
    Payment.order.as_alias("order_id"),
    Payment.created_at,
    Payment.status,
    Payment.amount,
    Payment.currency,
    Payment.external_payment_id,
    Payment.client_secret,
    Payment.failure_reason,
)


async def lock_order(order_id: int) -> dict[str, Any] | None:
    """The order row (`ORDER_COLUMNS`, money as Decimal), locked until the transaction ends."""
    row: dict[str, Any] | None = (
        await locked(Order.select(*ORDER_COLUMNS).where(Order.id == order_id), "NO KEY UPDATE").first().run()
    )
    if row is not None:
        row["total_amount"] = money(row["total_amount"])
    return row


async def lock_order_of(
    actor: CurrentUser, order_id: int, *, staff: GroupName | None = None
) -> dict[str, Any]:
    """`lock_order`, for its owner (or `staff`'s role and above when given).

    Raises `OrderNotFound` (404) for a missing order and for one the actor may
    not act on, so another user's order is not revealed.
    """
    row = await lock_order(order_id)
    if row is None:
        raise OrderNotFound()
    owner_id = int(row["user_id"])
    if not (actor.id == owner_id if staff is None else owner_or(actor, owner_id, staff)):
        raise OrderNotFound()
    return row


async def lock_payment(payment_id: int) -> dict[str, Any] | None:
    """The payment row (`PAYMENT_COLUMNS`, money as Decimal), locked; lock its order first."""
    row: dict[str, Any] | None = (
        await locked(Payment.select(*PAYMENT_COLUMNS).where(Payment.id == payment_id), "NO KEY UPDATE")
        .first()
        .run()
    )
    if row is not None:
        row["amount"] = money(row["amount"])
    return row


async def set_order_status(order: dict[str, Any], new: OrderStatus) -> None:
    """Move the locked `order` row to `new`; raises the order lifecycle's error (409) for an illegal move."""
    await (
        Order.update({Order.status: ORDER.transition(order["status"], new)})
        .where(Order.id == order["id"])
        .run()
    )
    order["status"] = new


async def set_payment_status(
    payment: dict[str, Any], new: PaymentStatus, values: dict[Column | str, Any] | None = None
) -> None:
    """Move the locked `payment` row to `new` (with other column `values`); illegal moves raise (409)."""
    changes: dict[Column | str, Any] = {
        Payment.status: PAYMENT.transition(payment["status"], new),
        **(values or {}),
    }
    await Payment.update(changes).where(Payment.id == payment["id"]).run()
    payment["status"] = new


async def email_of(user_id: int) -> str:
    """The buyer's email address, for a message about their order ("" when the user is gone)."""
    row = await User.select(User.email).where(User.id == user_id).first().run()
    return str(row["email"]) if row else ""
