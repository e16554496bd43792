"""`cinema refunds`: list refund requests, approve (refund through the gateway) or reject them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from cinema.commerce.tables import RefundStatus
from cinema.pagination import PageParams
from cli.common import CinemaTyper, JsonOption, output, print_json, run, success
from cli.params import id_argument, id_option

T = TypeVar("T")


def _sending_emails(make: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    """Run `make`, then wait for the emails it enqueued when tasks run in-process.

    Without `REDIS_URL` taskiq runs tasks in this process, so the command must
    not exit before the refund emails are written.
    """

    async def call() -> T:
        from taskiq import InMemoryBroker

        from cinema.tasks import broker

        result = await make()
        if isinstance(broker, InMemoryBroker):
            await broker.wait_all()
        return result

    return call


app = CinemaTyper(help="Refund requests: list, approve, reject.", no_args_is_help=True)

RequestArg = Annotated[int, id_argument("Refund request id.", metavar="REQUEST_ID")]

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

    result = run(lambda: refunds.list_requests(PageParams(page, per_page), status=status, user_id=user_id))
    output(
        result.items,
        COLUMNS,
        as_json=as_json,
        title=f"Refund requests (page {result.page} of {result.pages}, {result.total} in all)",
        payload=result,
    )


@app.command("approve")
def approve(request_id: RequestArg, as_json: JsonOption = False) -> None:
    """Refund the order's payment through the gateway; the order is canceled and the owner emailed."""
    from cinema.commerce import refunds

    request = run(_sending_emails(lambda: refunds.approve_request(request_id)))
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
    as_json: JsonOption = False,
) -> None:
    """Reject a refund request; the owner is emailed the note."""
    from cinema.commerce import refunds

    request = run(_sending_emails(lambda: refunds.reject_request(request_id, note)))
    if as_json:
        print_json(request)
        return
    success(f"Refund request #{request.id} for order #{request.order_id} rejected.")
