"""POST /payments/{order_id} and the payment views, on the sandbox gateway (no Stripe key).

docs/api.md, "Payments": prices revalidated, one intent per pending order (also under
concurrency), exact cents, 409/404 rules, 502 with nothing written when the
gateway fails, and GET /payments/, /payments/{id}, /payments/admin.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from cinema.catalog.tables import Movie
from cinema.clock import utcnow
from cinema.commerce.tables import OrderStatus, Payment, PaymentItem
from cinema.config import get_settings
from cinema.money import to_minor_units
from tests.commerce.payments_helpers import (
    order_state,
    payment_row,
    payments_of_order,
    prices_at_order,
)
from tests.conftest import free_port


async def _set_price(movie_id: int, price: str) -> None:
    await Movie.update({Movie.price: Decimal(price)}).where(Movie.id == movie_id).run()


async def test_create_payment_answers_pending_intent_for_exact_total(
    client, make_user, make_movie, make_order
):
    user = await make_user()
    movies = [await make_movie(price=p) for p in ("7.77", "17.99", "0.29")]
    order_id = await make_order(user.id, [m.id for m in movies])

    response = await client.post(f"/payments/{order_id}", headers=user.headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "pending"
    assert body["amount"] == "26.05"
    assert body["currency"] == "usd"
    assert body["order_id"] == order_id
    assert body["price_changes"] == []
    assert body["external_payment_id"].startswith("pi_sandbox_")
    assert body["client_secret"].startswith(body["external_payment_id"] + "_secret_")
    row = await payment_row(body["payment_id"])
    assert row["amount"] == Decimal("26.05")
    assert row["status"] == "pending"
    assert row["external_payment_id"] == body["external_payment_id"]
    assert to_minor_units(row["amount"], "usd") == 2605
    items = (
        await PaymentItem.select(PaymentItem.price_at_payment)
        .where(PaymentItem.payment == body["payment_id"])
        .run()
    )
    assert sorted(Decimal(str(i["price_at_payment"])) for i in items) == [
        Decimal("0.29"),
        Decimal("7.77"),
        Decimal("17.99"),
    ]


async def test_second_call_returns_the_same_intent(client, make_user, make_movie, make_order):
    user = await make_user()
    order_id = await make_order(user.id, [(await make_movie(price="4.50")).id])

    first = (await client.post(f"/payments/{order_id}", headers=user.headers)).json()
    second = await client.post(f"/payments/{order_id}/", headers=user.headers)

    assert second.status_code == 201
    assert second.json()["payment_id"] == first["payment_id"]
    assert second.json()["client_secret"] == first["client_secret"]
    assert second.json()["external_payment_id"] == first["external_payment_id"]
    assert len(await payments_of_order(order_id)) == 1


async def test_simultaneous_calls_make_one_payment_and_one_intent(client, make_user, make_movie, make_order):
    user = await make_user()
    order_id = await make_order(user.id, [(await make_movie()).id, (await make_movie()).id])

    responses = await asyncio.gather(
        *(client.post(f"/payments/{order_id}", headers=user.headers) for _ in range(8))
    )

    assert [r.status_code for r in responses] == [201] * 8
    assert len({r.json()["external_payment_id"] for r in responses}) == 1
    assert len(await payments_of_order(order_id)) == 1


async def test_prices_are_revalidated_and_reported(client, make_user, make_movie, make_order):
    user = await make_user()
    cheap, dear = await make_movie(price="9.99"), await make_movie(price="5.00", name="Dear")
    order_id = await make_order(user.id, [cheap.id, dear.id])
    await _set_price(dear.id, "12.50")

    response = await client.post(f"/payments/{order_id}", headers=user.headers)

    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == "22.49"
    assert body["price_changes"] == [
        {"movie_id": dear.id, "name": "Dear", "old_price": "5.00", "new_price": "12.50"}
    ]
    assert await order_state(order_id) == ("pending", Decimal("22.49"))
    assert await prices_at_order(order_id) == [Decimal("9.99"), Decimal("12.50")]


async def test_total_changed_after_intent_replaces_the_payment(client, make_user, make_movie, make_order):
    user = await make_user()
    movie = await make_movie(price="3.00")
    order_id = await make_order(user.id, [movie.id])
    first = (await client.post(f"/payments/{order_id}", headers=user.headers)).json()
    await _set_price(movie.id, "2.50")

    second = (await client.post(f"/payments/{order_id}", headers=user.headers)).json()

    assert second["payment_id"] != first["payment_id"]
    assert second["external_payment_id"] != first["external_payment_id"]
    assert second["amount"] == "2.50"
    assert [c["new_price"] for c in second["price_changes"]] == ["2.50"]
    old = await payment_row(first["payment_id"])
    assert old["status"] == "canceled"
    assert "3.00 to 2.50" in old["failure_reason"]
    assert [p["status"] for p in await payments_of_order(order_id)] == ["canceled", "pending"]


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.CANCELED])
async def test_only_pending_orders_can_be_paid(client, make_user, make_movie, make_order, status):
    user = await make_user()
    order_id = await make_order(user.id, [(await make_movie()).id], status=status)

    response = await client.post(f"/payments/{order_id}", headers=user.headers)

    assert response.status_code == 409
    assert response.json()["code"] == "not_pending"
    assert await payments_of_order(order_id) == []


async def test_another_users_order_is_not_found(client, make_user, make_movie, make_order):
    owner, other = await make_user(), await make_user()
    order_id = await make_order(owner.id, [(await make_movie()).id])

    assert (await client.post(f"/payments/{order_id}", headers=other.headers)).status_code == 404
    assert (await client.post("/payments/999999", headers=other.headers)).json()["code"] == "order_not_found"
    assert (await client.post(f"/payments/{order_id}")).status_code == 401
    assert await payments_of_order(order_id) == []


async def test_gateway_failure_is_502_and_writes_nothing(
    client, make_user, make_movie, make_order, monkeypatch
):
    user = await make_user()
    movie = await make_movie(price="8.00")
    order_id = await make_order(user.id, [movie.id])
    await _set_price(movie.id, "9.00")
    # A Stripe client pointed at a port where nothing listens: every attempt fails to connect.
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_unreachable")
    monkeypatch.setenv("PAYMENT_GATEWAY", "stripe")
    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()

    response = await client.post(f"/payments/{order_id}", headers=user.headers)

    assert response.status_code == 502
    assert response.json()["code"] == "payment_gateway_error"
    assert await payments_of_order(order_id) == []
    assert await order_state(order_id) == ("pending", Decimal("8.00"))
    assert await prices_at_order(order_id) == [Decimal("8.00")]


async def _paid_payment(user_id: int, order_id: int, status: str = "successful", days_ago: int = 0) -> int:
    payment = Payment(
        user=user_id,
        order=order_id,
        status=status,
        amount=Decimal("9.99"),
        currency="usd",
        external_payment_id=f"pi_test_{order_id}_{status}",
        created_at=utcnow() - timedelta(days=days_ago),
    )
    await payment.save()
    return int(payment.id)


async def test_my_payments_list_items_and_only_mine(client, make_user, make_movie, make_order):
    user, other = await make_user(), await make_user()
    movie = await make_movie(name="Heat", price="6.10")
    order_id = await make_order(user.id, [movie.id])
    created = (await client.post(f"/payments/{order_id}", headers=user.headers)).json()
    await client.post(f"/payments/{await make_order(other.id, [movie.id])}", headers=other.headers)

    response = await client.get("/payments/", headers=user.headers)
    no_slash = await client.get("/payments", headers=user.headers)

    assert response.status_code == 200
    assert no_slash.json() == response.json()
    page = response.json()
    assert page["total"] == 1
    assert page["pages"] == 1
    [item] = page["items"]
    assert item["id"] == created["payment_id"]
    assert item["status"] == "pending"
    assert item["amount"] == "6.10"
    assert item["created_at"].endswith(("+00:00", "Z"))
    assert item["items"] == [
        {"movie_id": movie.id, "name": "Heat", "offer": "buy", "price_at_payment": "6.10"}
    ]
    assert item["failure_reason"] is None
    assert item["external_payment_id"] == created["external_payment_id"]


async def test_one_payment_for_owner_or_admin_only(client, make_user, make_movie, make_order):
    owner, other = await make_user(), await make_user()
    admin = await make_user(group=GroupName.ADMIN)
    moderator = await make_user(group=GroupName.MODERATOR)
    order_id = await make_order(owner.id, [(await make_movie()).id])
    payment_id = (await client.post(f"/payments/{order_id}", headers=owner.headers)).json()["payment_id"]

    assert (await client.get(f"/payments/{payment_id}", headers=owner.headers)).json()["order_id"] == order_id
    assert (await client.get(f"/payments/{payment_id}", headers=admin.headers)).status_code == 200
    assert (await client.get(f"/payments/{payment_id}", headers=other.headers)).status_code == 404
    assert (await client.get(f"/payments/{payment_id}", headers=moderator.headers)).status_code == 404
    assert (await client.get("/payments/424242", headers=admin.headers)).status_code == 404


async def test_admin_list_filters_and_pages(client, make_user, make_movie, make_order):
    admin = await make_user(group=GroupName.ADMIN)
    moderator = await make_user(group=GroupName.MODERATOR)
    alice, bob = await make_user(), await make_user()
    movie = await make_movie()
    a1 = await _paid_payment(alice.id, await make_order(alice.id, [movie.id], status=OrderStatus.PAID))
    a2 = await _paid_payment(alice.id, await make_order(alice.id, [movie.id]), status="canceled", days_ago=10)
    b1 = await _paid_payment(
        bob.id, await make_order(bob.id, [movie.id], status=OrderStatus.PAID), days_ago=3
    )

    async def ids(**query: Any) -> list[int]:
        response = await client.get("/payments/admin", params=query, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert await ids() == [a1, b1, a2]  # newest first
    assert await ids(user_id=alice.id) == [a1, a2]
    assert await ids(status="successful") == [a1, b1]
    today = utcnow().date()
    assert await ids(date_from=str(today - timedelta(days=5))) == [a1, b1]
    assert await ids(date_to=str(today - timedelta(days=3))) == [b1, a2]
    assert await ids(date_from=str(today - timedelta(days=3)), date_to=str(today - timedelta(days=3))) == [b1]
    page = (await client.get("/payments/admin/?per_page=2&page=2", headers=admin.headers)).json()
    assert (page["total"], page["pages"], [p["id"] for p in page["items"]]) == (3, 2, [a2])
    past_end = (await client.get("/payments/admin?page=9", headers=admin.headers)).json()
    assert (past_end["items"], past_end["total"]) == ([], 3)

    bad_range = await client.get(
        "/payments/admin",
        params={"date_from": str(today), "date_to": str(today - timedelta(days=1))},
        headers=admin.headers,
    )
    assert (bad_range.status_code, bad_range.json()["code"]) == (400, "invalid_date_range")
    assert (await client.get("/payments/admin?status=lost", headers=admin.headers)).status_code == 422
    assert (await client.get("/payments/admin?per_page=101", headers=admin.headers)).status_code == 422
    assert (await client.get("/payments/admin", headers=moderator.headers)).status_code == 403
    assert (await client.get("/payments/admin", headers=alice.headers)).status_code == 403
