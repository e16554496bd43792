"""Order, payment and refund statuses: their legal transitions and their named groupings.

Each status enum has one transition table (`Lifecycle`); a service that
changes a status asks its lifecycle (`ORDER`, `PAYMENT`, `REFUND`)
`transition(current, new)`, which answers the new status or raises the
lifecycle's typed error, and a service that only acts when a change is
possible (a gateway event arriving late) asks `can_transition`. The
groupings name what a rule means (an order that still holds its movies is
in `OPEN_ORDERS`) instead of spelling out statuses at each use. docs/api.md,
"Orders" and "Payments", describe the flows these tables encode.

Adding a status (a partial refund, a dispute) means one enum member, its row
in the table and, where it belongs, its place in a grouping.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from cinema.commerce.errors import IllegalPaymentTransition, OrderNotPending, RefundNotOpen
from cinema.errors import CinemaError


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    CANCELED = "canceled"


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCESSFUL = "successful"
    CANCELED = "canceled"
    REFUNDED = "refunded"


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"
    REFUNDED = "refunded"
    REJECTED = "rejected"


S = TypeVar("S", OrderStatus, PaymentStatus, RefundStatus)


class Lifecycle(Generic[S]):
    """The legal moves between the members of one status enum.

    `refused` is raised by `transition` for a move the table does not hold,
    with the current `status` and the `requested` one in its body.
    """

    def __init__(self, kind: type[S], moves: Mapping[S, Iterable[S]], refused: type[CinemaError]) -> None:
        missing = set(kind) - set(moves)
        if missing:
            raise ValueError(f"{kind.__name__} has no row for {sorted(missing)}")
        self.kind: type[S] = kind
        self.moves: dict[S, frozenset[S]] = {status: frozenset(to) for status, to in moves.items()}
        self.refused = refused
        #: Statuses nothing moves on from.
        self.final: frozenset[S] = frozenset(s for s, to in self.moves.items() if not to)

    def can_transition(self, current: S | str, new: S) -> bool:
        """Whether a row in `current` (a member or its stored value) may become `new`."""
        return new in self.moves[self.kind(current)]

    def transition(self, current: S | str, new: S) -> S:
        """`new`, when a row in `current` may take it; else raises the lifecycle's `refused` error."""
        if not self.can_transition(current, new):
            raise self.refused(status=self.kind(current).value, requested=new.value)
        return new

    def sources(self, new: S) -> frozenset[S]:
        """The statuses from which a row may become `new`."""
        return frozenset(s for s, to in self.moves.items() if new in to)


ORDER = Lifecycle(
    OrderStatus,
    {
        # Paid by a successful payment, or canceled by its owner (or staff) before that.
        OrderStatus.PENDING: {OrderStatus.PAID, OrderStatus.CANCELED},
        # Only a refund of the payment that paid it cancels a paid order.
        OrderStatus.PAID: {OrderStatus.CANCELED},
        OrderStatus.CANCELED: set(),
    },
    # Every illegal move starts from an order that is no longer pending.
    refused=OrderNotPending,
)

PAYMENT = Lifecycle(
    PaymentStatus,
    {
        # Gateway events arrive in any order: a refund may be seen before the success it undoes.
        PaymentStatus.PENDING: {PaymentStatus.SUCCESSFUL, PaymentStatus.CANCELED, PaymentStatus.REFUNDED},
        # A declined payment can still succeed (Stripe lets the customer retry the same intent).
        PaymentStatus.CANCELED: {PaymentStatus.SUCCESSFUL, PaymentStatus.REFUNDED},
        PaymentStatus.SUCCESSFUL: {PaymentStatus.REFUNDED},
        PaymentStatus.REFUNDED: set(),
    },
    refused=IllegalPaymentTransition,
)

REFUND = Lifecycle(
    RefundStatus,
    {
        RefundStatus.REQUESTED: {RefundStatus.REFUNDED, RefundStatus.REJECTED},
        RefundStatus.REFUNDED: set(),
        RefundStatus.REJECTED: set(),
    },
    refused=RefundNotOpen,
)

# --- Groupings ----------------------------------------------------------------

#: Orders that still hold their movies: they may be paid or canceled, and their
#: movies cannot be ordered again meanwhile.
OPEN_ORDERS: frozenset[OrderStatus] = frozenset({OrderStatus.PENDING})
#: Orders whose money was taken: their owner may ask for a refund.
REFUNDABLE_ORDERS: frozenset[OrderStatus] = frozenset({OrderStatus.PAID})

#: Payments waiting for their outcome: the one a new checkout of the order reuses.
OPEN_PAYMENTS: frozenset[PaymentStatus] = frozenset({PaymentStatus.PENDING})
#: Payments whose gateway intent may still be paid while it lives (pending, or declined).
PAYABLE_PAYMENTS: frozenset[PaymentStatus] = frozenset({PaymentStatus.PENDING, PaymentStatus.CANCELED})
#: Payments that took the money and still hold it: the only ones staff may refund.
REFUNDABLE_PAYMENTS: frozenset[PaymentStatus] = frozenset({PaymentStatus.SUCCESSFUL})

#: Refund requests waiting for a staff decision.
OPEN_REFUNDS: frozenset[RefundStatus] = frozenset({RefundStatus.REQUESTED})


def values(statuses: Iterable[enum.StrEnum]) -> list[str]:
    """The stored values of `statuses`, sorted (for `column.is_in(...)`)."""
    return sorted(s.value for s in statuses)
