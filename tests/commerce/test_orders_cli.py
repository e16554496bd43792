"""`cinema orders list|show|cancel` against the real database (sync tests: see conftest)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cinema.commerce.tables import Order, OrderStatus
from tests.cli_support import in_cli_loop


def _set_created(order_id: int, when: datetime) -> None:
    in_cli_loop(lambda: Order.update({Order.created_at: when}).where(Order.id == order_id).run())


def test_orders_list_filters_and_json(cli: Any, make_user: Any, make_movie: Any, make_order: Any) -> None:
    alice = in_cli_loop(lambda: make_user(email="alice@example.com"))
    bob = in_cli_loop(lambda: make_user(email="bob@example.com"))
    movie = in_cli_loop(lambda: make_movie(price="7.77"))
    a1 = in_cli_loop(lambda: make_order(alice.id, [movie.id]))
    a2 = in_cli_loop(lambda: make_order(alice.id, [movie.id], status=OrderStatus.PAID))
    b1 = in_cli_loop(lambda: make_order(bob.id, [movie.id]))
    _set_created(a1, datetime(2026, 1, 5, 10, tzinfo=UTC))
    _set_created(a2, datetime(2026, 1, 6, 10, tzinfo=UTC))
    _set_created(b1, datetime(2026, 1, 7, 10, tzinfo=UTC))

    def ids(*args: str) -> list[int]:
        result = cli("orders", "list", "--json", *args)
        assert result.exit_code == 0, result.output
        page = json.loads(result.stdout)
        assert set(page) == {"items", "page", "per_page", "total", "pages"}
        return [o["id"] for o in page["items"]]

    assert ids() == [b1, a2, a1]
    assert ids("--user", "alice@example.com") == [a2, a1]
    assert ids("--user", str(bob.id)) == [b1]
    assert ids("--status", "paid") == [a2]
    assert ids("--from", "2026-01-06") == [b1, a2]
    assert ids("--from", "2026-01-05T10:00:01Z", "--to", "2026-01-06") == [a2]
    assert ids("--per-page", "1", "--page", "3") == [a1]

    table = cli("orders", "list", "--user", "alice@example.com")
    assert table.exit_code == 0
    assert "7.77" in table.stdout
    assert "paid" in table.stdout

    bad = cli("orders", "list", "--from", "soon")
    assert bad.exit_code == 2
    assert cli("orders", "list", "--status", "shipped").exit_code == 2
    unknown = cli("orders", "list", "--user", "ghost@example.com")
    assert unknown.exit_code == 1
    assert "user_not_found" in unknown.stderr


def test_orders_show_and_cancel(cli: Any, make_user: Any, make_movie: Any, make_order: Any) -> None:
    user = in_cli_loop(lambda: make_user())
    movies = [
        in_cli_loop(lambda p=p: make_movie(name=f"Film {p}", price=p)) for p in ("7.77", "17.99", "0.29")
    ]
    order_id = in_cli_loop(lambda: make_order(user.id, [m.id for m in movies]))
    paid_id = in_cli_loop(lambda: make_order(user.id, [movies[0].id], status=OrderStatus.PAID))

    shown = cli("orders", "show", str(order_id), "--json")
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["total_amount"] == "26.05"
    assert [i["price_at_order"] for i in body["items"]] == ["7.77", "17.99", "0.29"]
    table = cli("orders", "show", str(order_id))
    assert table.exit_code == 0
    assert "Film 17.99" in table.stdout
    assert "26.05" in table.stdout

    canceled = cli("orders", "cancel", str(order_id), "--json")
    assert canceled.exit_code == 0, canceled.output
    assert json.loads(canceled.stdout)["status"] == "canceled"
    again = cli("orders", "cancel", str(order_id))
    assert again.exit_code == 1
    assert "not_pending" in again.stderr
    paid = cli("orders", "cancel", str(paid_id))
    assert paid.exit_code == 1
    assert "refund_required" in paid.stderr
    missing = cli("orders", "show", "424242")
    assert missing.exit_code == 1
    assert "order_not_found" in missing.stderr


def test_orders_and_payments_list_reject_dates_past_the_calendar(cli: Any) -> None:
    orders = cli("orders", "list", "--to", "9999-12-31")
    payments = cli("payments", "list", "--date-to", "9999-12-31")

    for result in (orders, payments):
        assert result.exit_code == 1, result.output
        assert "outside the dates" in result.output
        assert "Traceback" not in result.output
