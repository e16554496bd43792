"""Fixtures for the entitlement tests: actors, movies, and paid orders written the way a payment writes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.catalog.tables import Movie
from cinema.clock import utcnow
from cinema.commerce.tables import Order, OrderItem, OrderStatus, Payment, PaymentStatus, Purchase
from cinema.entitlements.service import PaidItem, grant_purchases
from tests.clock_support import MovableClock
from tests.ops.conftest import make_movie

__all__ = ["Paid", "actor", "admin_actor", "make_movie", "movable_clock", "pay"]


@pytest.fixture
def movable_clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    """The product's clock, moved forward by `movable_clock.advance(hours=...)` (tests/clock_support.py)."""
    return MovableClock(monkeypatch)


def actor(user: Any, group: GroupName | None = None) -> CurrentUser:
    """The `CurrentUser` of a test account (`make_user`'s handle) or of a bare id."""
    user_id = user if isinstance(user, int) else user.id
    found = group or (GroupName.USER if isinstance(user, int) else user.group)
    return CurrentUser(id=user_id, email=f"user{user_id}@example.com", group=found, session_id="s")


async def admin_actor(make_user: Any) -> CurrentUser:
    return actor(await make_user(group=GroupName.ADMIN))


@dataclass(frozen=True)
class Paid:
    order_id: int
    payment_id: int
    order_item_ids: list[int]
    entitlement_ids: list[int]


async def pay(user_id: int, *movie_ids: int, at: datetime | None = None) -> Paid:
    """A paid order of the movies: items, a successful payment, purchase rows and entitlements."""
    prices = {
        int(r["id"]): Decimal(str(r["price"]))
        for r in await Movie.select(Movie.id, Movie.price).where(Movie.id.is_in(list(movie_ids))).run()
    }
    total = sum(prices.values(), Decimal("0"))
    order = Order(user=user_id, status=OrderStatus.PAID, total_amount=total, created_at=utcnow())
    await order.save()
    items: list[PaidItem] = []
    for movie_id in movie_ids:
        item = OrderItem(order=order.id, movie=movie_id, price_at_order=prices[movie_id])
        await item.save()
        items.append(PaidItem(movie_id, int(item.id)))
        await Purchase(user=user_id, movie=movie_id, order=order.id).save()
    payment = Payment(
        user=user_id,
        order=order.id,
        status=PaymentStatus.SUCCESSFUL,
        amount=total,
        currency="usd",
        external_payment_id=f"pi_test_{order.id}",
    )
    await payment.save()
    ids = await grant_purchases(user_id, items, payment_id=int(payment.id), now=at)
    return Paid(int(order.id), int(payment.id), [i.order_item_id for i in items], ids)
