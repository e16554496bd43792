"""`cinema refunds`: list refund requests, approve (refund through the gateway) or reject them.

Decisions are recorded with who took them: `--as EMAIL` names the ADMIN
account deciding; without it the operator decides and `decided_by` stays
empty (`cli.common.OPERATOR`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from cinema.commerce.schemas import RefundRequestOut
from cinema.commerce.statuses import RefundStatus
from cinema.pagination import PageParams
from cli.common import (
    OPERATOR,
    CinemaTyper,
    JsonOption,
    acting_as,
    output,
    page_title,
    print_json,
    run,
    success,
)
from cli.params import id_argument, id_option, parse_email

app = CinemaTyper(help="Refund requests: list, approve, reject.", no_args_is_help=True)

RequestArg = Annotated[int, id_argument("Refund request id.", metavar="REQUEST_ID")]
AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        parser=parse_email,
        metavar="EMAIL",
        help="The ADMIN account taking the decision (recorded as decided_by).",
    ),
]

COLUMNS = ["id", "order_id", "user_id", "payment_id", "status", "reason", "created_at", "decided_at"]


@app.command("list")
def list_requests(
    status: Annotated[RefundStatus | None, typer.Option(help="requested, refunded or rejected.")] = None,
    user_id: Annotated[int | None, id_option("--user-id", help="Only this user's requests.")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    per_page: Annotated[int, typer.Option("--per-page", min=1, max=100)] = 20,
    as_json: JsonOption = False,
) -> None:
    """Refund requests, oldest first."""
    from cinema.commerce import refunds

    result = run(
        lambda: refunds.list_requests(OPERATOR, PageParams(page, per_page), status=status, user_id=user_id)
    )
    output(
        result.items,
        COLUMNS,
        as_json=as_json,
        title=page_title("Refund requests", result),
        payload=result,
    )


@app.command("approve")
def approve(request_id: RequestArg, as_: AsOption = None, as_json: JsonOption = False) -> None:
    """Refund the order's payment through the gateway; the order is canceled and the owner emailed."""
    from cinema.commerce import refunds

    async def decide() -> RefundRequestOut:
        return await refunds.approve_request(await acting_as(as_), request_id)

    request = run(decide)
    if as_json:
        print_json(request)
        return
    success(
        f"Refund request #{request.id} approved: order #{request.order_id} refunded "
        f"(refund {request.external_refund_id})."
    )


@app.command("reject")
def reject(
    request_id: RequestArg,
    note: Annotated[str, typer.Option("--note", help="Why; sent to the customer.")],
    as_: AsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject a refund request; the owner is emailed the note."""
    from cinema.commerce import refunds

    async def decide() -> RefundRequestOut:
        return await refunds.reject_request(await acting_as(as_), request_id, note)

    request = run(decide)
    if as_json:
        print_json(request)
        return
    success(f"Refund request #{request.id} for order #{request.order_id} rejected.")
