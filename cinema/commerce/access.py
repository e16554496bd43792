"""Who may see and change carts, orders, payments and refunds.

Every commerce service that decides access takes the acting user (`actor`)
and asks here; the doors (API, CLI, admin) only authenticate and pass it on.
The roles are those of docs/api.md, "Cart", "Orders" and "Payments":

- a cart: its owner works on it as "my cart"; naming any user's cart is
  MODERATOR and above;
- an order: its owner or MODERATOR and above see it; the list of all orders
  is MODERATOR and above; its owner or an ADMIN cancels it;
- a payment: its owner or an ADMIN sees it; the list of all payments is ADMIN;
- refunds: the order's owner asks; an ADMIN lists, approves, rejects, and
  refunds payments.

A row the actor may not see answers as missing (404), so its existence is
not revealed; a staff-only operation asked for by a lower role is 403
(`StaffOnly`, with the `required_group`).

The CLI acts as an operator with the ADMIN role and no account (id 0):
`recorded_id` keeps it out of the columns that name who decided.
"""

from __future__ import annotations

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.commerce.errors import StaffOnly

#: The lowest role for each staff power over other users' rows.
CART_STAFF = GroupName.MODERATOR
ORDER_VIEWERS = GroupName.MODERATOR
ORDER_CANCELERS = GroupName.ADMIN
PAYMENT_VIEWERS = GroupName.ADMIN
REFUND_DECIDERS = GroupName.ADMIN


def require_role(actor: CurrentUser, minimum: GroupName) -> None:
    """Raises `StaffOnly` (403) unless the actor has `minimum`'s role or above."""
    if not actor.has_group(minimum):
        raise StaffOnly(required_group=minimum.value)


def owner_or(actor: CurrentUser, owner_id: int, minimum: GroupName) -> bool:
    """Whether the actor owns the row or has `minimum`'s role or above."""
    return actor.id == owner_id or actor.has_group(minimum)


def recorded_id(actor: CurrentUser) -> int | None:
    """The actor's user id for a column naming who acted; None for an actor without an account."""
    return actor.id if actor.id >= 1 else None
