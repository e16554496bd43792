"""`cinema orders`: list (filters like `GET /orders/admin`), show and cancel any order."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError

from cinema.commerce.schemas import OrderOut
from cinema.commerce.statuses import OrderStatus
from cinema.pagination import PageParams
from cli.common import (
    OPERATOR,
    CinemaTyper,
    JsonOption,
    console,
    output,
    page_title,
    print_json,
    run,
    success,
)
from cli.params import id_argument, parse_user

app = CinemaTyper(help="Orders.", no_args_is_help=True)

OrderArg = Annotated[int, id_argument("Order id.", metavar="ORDER_ID")]

_BOUND: TypeAdapter[date | datetime] = TypeAdapter(date | datetime)


def date_bound(value: str) -> date | datetime:
    """A date (YYYY-MM-DD, a whole UTC day) or an ISO 8601 datetime (naive = UTC): the staff lists' bounds."""
    try:
        return _BOUND.validate_strings(value)
    except ValidationError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 datetime.") from None


def bound_option(*names: str, help: str) -> Any:
    """A `--from`/`--to` style option parsed by `date_bound`."""
    return typer.Option(*names, parser=date_bound, metavar="DATE|DATETIME", help=help)


def _row(order: OrderOut) -> dict[str, object]:
    return {
        "id": order.id,
        "user_id": order.user_id,
        "created_at": order.created_at,
        "status": order.status,
        "total_amount": order.total_amount,
        "items": len(order.items),
    }


@app.command("list")
def list_(
    user: Annotated[
        Any,
        typer.Option(
            "--user", "-u", parser=parse_user, metavar="USER", help="Only this user's orders: email or id."
        ),
    ] = None,
    status: Annotated[
        OrderStatus | None, typer.Option("--status", "-s", help="pending, paid or canceled.")
    ] = None,
    date_from: Annotated[Any, bound_option("--from", help="Created on/after: date or datetime.")] = None,
    date_to: Annotated[Any, bound_option("--to", help="Created on/before: date or datetime.")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=100)] = 20,
    as_json: JsonOption = False,
) -> None:
    """List every user's orders, newest first."""
    from cinema.commerce import orders

    # As text, an id is looked up too: an unknown user is an error here, not an empty page.
    owner = None if user is None else str(user)
    result = run(
        lambda: orders.list_orders(
            OPERATOR,
            user=owner,
            status=status,
            date_from=date_from,
            date_to=date_to,
            params=PageParams(page, per_page),
        )
    )
    output(
        [_row(o) for o in result.items],
        ("id", "user_id", "created_at", "status", "total_amount", "items"),
        as_json=as_json,
        title=page_title("Orders", result),
        payload=result,
    )


def _render(order: OrderOut, as_json: bool) -> None:
    if as_json:
        print_json(order)
        return
    output(
        order.items,
        ("movie_id", "name", "offer", "price_at_order"),
        as_json=False,
        title=f"Order {order.id} of user {order.user_id}: {order.status.value}, {order.created_at:%Y-%m-%d %H:%M} UTC",
    )
    console.print(f"Total: [bold]{order.total_amount:.2f}[/bold]")


@app.command()
def show(order_id: OrderArg, as_json: JsonOption = False) -> None:
    """Show one order with its items."""
    from cinema.commerce import orders

    _render(run(lambda: orders.get_order(OPERATOR, order_id)), as_json)


@app.command()
def cancel(order_id: OrderArg, as_json: JsonOption = False) -> None:
    """Cancel a pending order (a paid one needs a refund: `cinema refunds`)."""
    from cinema.commerce import orders

    order = run(lambda: orders.cancel_order(OPERATOR, order_id))
    if as_json:
        print_json(order)
        return
    success(f"Order {order.id} canceled.")
