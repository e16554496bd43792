"""Migration 0010: the `entitlements` table, and every purchase copied into it with nothing lost.

The test runs the migration's own steps on the test database: backwards (the
table is dropped), purchases written the way the code before entitlements
wrote them, then forwards (the table, its indexes, the copy).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cinema.clock import utcnow
from cinema.commerce.tables import Order, OrderItem, OrderStatus, Payment, PaymentStatus, Purchase
from cinema.db import close_pool, fetch, is_postgres, open_pool
from cinema.entitlements import access
from cinema.entitlements.tables import Entitlement
from cinema.sql import as_datetime
from piccolo_migrations import cinema_0010_entitlements as migration
from piccolo_migrations import cinema_0011_rentals as rentals_migration
from tests.entitlements.conftest import actor, make_movie


async def _old_purchase(user_id: int, movie_ids: list[int], *, payments: list[str]) -> dict[str, Any]:
    """A paid order as the code before entitlements wrote it: items, payments, purchase rows only."""
    order = Order(user=user_id, status=OrderStatus.PAID, total_amount=Decimal("9.99"), created_at=utcnow())
    await order.save()
    items = {}
    for movie_id in movie_ids:
        item = OrderItem(order=order.id, movie=movie_id, price_at_order=Decimal("9.99"))
        await item.save()
        items[movie_id] = int(item.id)
        await Purchase(user=user_id, movie=movie_id, order=order.id, created_at=utcnow()).save()
    paid = []
    for status in payments:
        payment = Payment(user=user_id, order=order.id, status=status, amount=Decimal("9.99"), currency="usd")
        await payment.save()
        paid.append(int(payment.id))
    return {"order": int(order.id), "items": items, "payments": paid}


async def test_purchases_become_purchase_entitlements(make_user) -> None:
    ann, bob = await make_user(), await make_user()
    heat = await make_movie()
    ronin = await make_movie(name="Ronin", year=1998)
    alien = await make_movie(name="Alien", year=1979)
    # A failed attempt, then the payment that paid the order: the copy links the successful one.
    anns = await _old_purchase(
        ann.id, [heat, ronin], payments=[PaymentStatus.CANCELED, PaymentStatus.SUCCESSFUL]
    )
    # An order marked paid by hand, with no payment row: still a purchase, without a payment link.
    bobs = await _old_purchase(bob.id, [alien], payments=[])
    purchases = (
        await Purchase.select(
            Purchase.user.as_alias("user"), Purchase.movie.as_alias("movie"), Purchase.created_at
        )
        .order_by(Purchase.id)
        .run()
    )

    manager = await migration.forwards()
    try:
        await manager.run(backwards=True)
        assert await Entitlement.table_exists().run() is False
        await manager.run()
        # Back to the current schema: migration 0011 adds a column to the table 0010 made.
        await fetch("ALTER TABLE entitlements ADD COLUMN rental_hours INTEGER")
    finally:
        if is_postgres():
            # Pooled connections prepared statements against the dropped table: start afresh.
            await close_pool()
            await open_pool()

    rows = await fetch(
        "SELECT user_id, movie_id, source, order_item_id, payment_id, starts_at, created_at, expires_at, "
        "start_by, revoked_at, suspended_at, granted_by_id FROM entitlements ORDER BY id"
    )
    assert [(r["user_id"], r["movie_id"], r["source"]) for r in rows] == [
        (p["user"], p["movie"], "purchase") for p in purchases
    ]
    assert [(r["order_item_id"], r["payment_id"]) for r in rows] == [
        (anns["items"][heat], anns["payments"][1]),
        (anns["items"][ronin], anns["payments"][1]),
        (bobs["items"][alien], None),
    ]
    for row, purchase in zip(rows, purchases, strict=True):
        assert as_datetime(row["starts_at"]) == purchase["created_at"]
        assert as_datetime(row["created_at"]) == purchase["created_at"]
        assert (row["expires_at"], row["start_by"], row["revoked_at"], row["suspended_at"]) == (None,) * 4
        assert row["granted_by_id"] is None
    for user, movie in ((ann, heat), (ann, ronin), (bob, alien)):
        assert await access.may_watch(actor(user), movie) is True
    assert await access.may_watch(actor(bob), heat) is False

    # Copying again adds nothing; the indexes exist.
    await migration.copy_purchases()
    assert await Entitlement.count().run() == 3
    names = await _index_names()
    assert {
        "entitlements_user_movie",
        "entitlements_order_item",
        "entitlements_payment",
        "entitlements_ending",
    } <= names


async def _index_names() -> set[str]:
    if is_postgres():
        rows = await fetch("SELECT indexname AS name FROM pg_indexes WHERE tablename = 'entitlements'")
    else:
        rows = await fetch(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entitlements'"
        )
    return {str(r["name"]) for r in rows}


def test_the_frozen_table_matches_the_live_one() -> None:
    """The migration froze the columns the code uses, and migration 0011 added rental_hours:
    same names, same nullability."""

    def shape(table: Any) -> dict[str, bool]:
        return {c._meta.db_column_name: c._meta.null for c in table._meta.columns}

    added = {
        column: params["null"]
        for _, table, column, _, params in rentals_migration.COLUMNS
        if table == "entitlements"
    }
    assert added == {"rental_hours": True}
    assert {**shape(migration.Entitlement), **added} == shape(Entitlement)
