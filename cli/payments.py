"""`cinema payments`: list and show payments (the admin API's views, for operators)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cinema.commerce.statuses import PaymentStatus
from cinema.pagination import PageParams
from cli.common import OPERATOR, CinemaTyper, JsonOption, output, page_title, print_json, run
from cli.orders import bound_option
from cli.params import id_argument, id_option

app = CinemaTyper(help="Payments: list and show.", no_args_is_help=True)

COLUMNS = ["id", "user_id", "order_id", "created_at", "status", "amount", "currency", "external_payment_id"]


@app.command("list")
def list_payments(
    user_id: Annotated[int | None, id_option("--user-id", help="Only this user's payments.")] = None,
    status: Annotated[
        PaymentStatus | None, typer.Option(help="pending, successful, canceled or refunded.")
    ] = None,
    date_from: Annotated[Any, bound_option("--date-from", help="Created on/after: date or datetime.")] = None,
    date_to: Annotated[Any, bound_option("--date-to", help="Created on/before: date or datetime.")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    per_page: Annotated[int, typer.Option("--per-page", min=1, max=100)] = 20,
    as_json: JsonOption = False,
) -> None:
    """Payments, newest first (same filters as GET /payments/admin)."""
    from cinema.commerce import payments

    result = run(
        lambda: payments.list_payments(
            OPERATOR,
            PageParams(page, per_page),
            user_id=user_id,
            status=status,
            date_from=date_from,
            date_to=date_to,
        )
    )
    output(
        result.items,
        COLUMNS,
        as_json=as_json,
        title=page_title("Payments", result),
        payload=result,
    )


@app.command("show")
def show_payment(
    payment_id: Annotated[int, id_argument("Payment id.", metavar="PAYMENT_ID")], as_json: JsonOption = False
) -> None:
    """One payment with its items and failure reason."""
    from cinema.commerce import payments

    payment = run(lambda: payments.get_payment(OPERATOR, payment_id))
    if as_json:
        print_json(payment)
        return
    output([payment], [*COLUMNS, "failure_reason"], as_json=False, title=f"Payment #{payment.id}")
    output(payment.items, ["movie_id", "name", "offer", "price_at_payment"], as_json=False, title="Items")
