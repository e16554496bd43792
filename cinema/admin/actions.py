"""Admin actions: piccolo_admin forms (the sidebar's "Forms") that change money state through the services.

Orders, payments and refund requests are read-only rows in the admin; what
staff may do to them is here, each action calling exactly what the matching
CLI command or API endpoint calls (docs/admin.md):

- Approve refund: `refunds.approve_request`, like `cinema refunds approve`:
  the gateway refunds the payment, the order is canceled, the buyer loses the movies;
- Reject refund: `refunds.reject_request`, like `cinema refunds reject`;
- Refund payment: `refunds.refund_payment`, like `POST /payments/{id}/refund`;
- Cancel order: `orders.cancel_order`, like `cinema orders cancel` (pending orders only);
- Delete movie: `movies.delete_movie`, like `DELETE /movies/{id}?force=`, which
  can also take the movie out of the carts holding it.

An action names its lowest role; the router hides the others' actions from a
person and refuses them (403) if posted anyway. The money actions pass the
signed-in staff member as the services' `actor`, and the services decide
(and record who decided a refund).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from piccolo_admin.endpoints import FormConfig
from pydantic import BaseModel, Field, StringConstraints
from starlette.requests import Request

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.admin.access import require_staff
from cinema.catalog import movies
from cinema.commerce import orders, refunds
from cinema.db import MAX_ID

RowId = Annotated[int, Field(gt=0, le=MAX_ID)]


class Action(FormConfig):
    """A `FormConfig` open to `minimum`'s role and above."""

    def __init__(
        self,
        name: str,
        model: type[BaseModel],
        endpoint: Callable[[Request, Any], Coroutine[Any, Any, str]],
        *,
        minimum: GroupName,
        description: str,
    ) -> None:
        super().__init__(
            name=name, pydantic_model=model, endpoint=endpoint, description=description, form_group="Actions"
        )
        self.minimum = minimum


class RefundRequestIn(BaseModel):
    refund_request_id: RowId = Field(description="Its id in Commerce > Refund Requests.")


class RejectRefundIn(RefundRequestIn):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = Field(
        description="Why; emailed to the customer."
    )


class PaymentIn(BaseModel):
    payment_id: RowId = Field(description="Its id in Commerce > Payments.")


class OrderIn(BaseModel):
    order_id: RowId = Field(description="Its id in Commerce > Orders.")


class DeleteMovieIn(BaseModel):
    movie_id: RowId = Field(description="Its id in Catalog > Movies.")
    remove_from_carts: bool = Field(False, description="Also take it out of the carts that hold it.")


async def _signed_in(request: Request) -> CurrentUser:
    """The signed-in staff member as the services' actor; the service decides what their role may do."""
    return (await require_staff(request)).actor


async def approve_refund(request: Request, data: RefundRequestIn) -> str:
    done = await refunds.approve_request(await _signed_in(request), data.refund_request_id)
    return (
        f"Refund request #{done.id} approved: order #{done.order_id} refunded "
        f"(refund {done.external_refund_id})."
    )


async def reject_refund(request: Request, data: RejectRefundIn) -> str:
    done = await refunds.reject_request(await _signed_in(request), data.refund_request_id, data.note)
    return f"Refund request #{done.id} for order #{done.order_id} rejected."


async def refund_payment(request: Request, data: PaymentIn) -> str:
    payment = await refunds.refund_payment(await _signed_in(request), data.payment_id)
    return f"Payment #{payment.id} refunded ({payment.amount} {payment.currency.upper()})."


async def cancel_order(request: Request, data: OrderIn) -> str:
    order = await orders.cancel_order(await _signed_in(request), data.order_id)
    return f"Order #{order.id} canceled."


async def delete_movie(request: Request, data: DeleteMovieIn) -> str:
    staff = await require_staff(request, GroupName.MODERATOR)
    await movies.delete_movie(staff.actor, data.movie_id, force=data.remove_from_carts)
    return f"Movie #{data.movie_id} deleted."


def actions() -> list[Action]:
    return [
        Action(
            "Approve refund",
            RefundRequestIn,
            approve_refund,
            minimum=GroupName.ADMIN,
            description="Refund the order's payment through the payment provider: the order is "
            "canceled, the buyer loses its movies and is emailed (as `cinema refunds approve`).",
        ),
        Action(
            "Reject refund",
            RejectRefundIn,
            reject_refund,
            minimum=GroupName.ADMIN,
            description="Reject an open refund request; the note is emailed to the customer "
            "(as `cinema refunds reject`).",
        ),
        Action(
            "Refund payment",
            PaymentIn,
            refund_payment,
            minimum=GroupName.ADMIN,
            description="Refund a successful payment in full through the payment provider "
            "(as POST /payments/{id}/refund).",
        ),
        Action(
            "Cancel order",
            OrderIn,
            cancel_order,
            minimum=GroupName.ADMIN,
            description="Cancel a pending order and its open payments (a paid order needs a refund).",
        ),
        Action(
            "Delete movie",
            DeleteMovieIn,
            delete_movie,
            minimum=GroupName.MODERATOR,
            description="Delete a movie no one bought; with 'remove from carts' it also leaves the "
            "carts holding it (as DELETE /movies/{id}?force=true).",
        ),
    ]
