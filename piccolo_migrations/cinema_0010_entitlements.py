"""Entitlements: the `entitlements` table, its indexes, and every purchase copied into it.

The table definitions are frozen here (not imported from
`cinema.entitlements.tables`), so later changes to the live classes cannot
change what this migration did. Unlike the live class, `order_item_id` and
`payment_id` are real foreign keys here (the live class may not import
commerce's tables; docs/entitlements.md).

Data: each `purchases` row becomes a `purchase` entitlement from the
purchase's time, forever, linked to its order item (same order and movie) and
to the payment that paid the order when there is one. The copy skips a
purchase that already has a live purchase entitlement, so running it again
adds nothing. `purchases` itself is kept and still written (docs/entitlements.md,
"Purchases"); going backwards drops only the new table.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import ForeignKey, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

ID = "2026-12-03T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "entitlements, with the purchases copied in"


class User(Table, tablename="users"):
    id: Serial


class Movie(Table, tablename="movies"):
    id: Serial


class OrderItem(Table, tablename="order_items"):
    id: Serial


class Payment(Table, tablename="payments"):
    id: Serial


class Entitlement(Table, tablename="entitlements"):
    id: Serial
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="movie_id")
    source = Varchar(length=16)
    order_item_id = ForeignKey(
        OrderItem, null=True, default=None, on_delete=OnDelete.restrict, db_column_name="order_item_id"
    )
    payment_id = ForeignKey(
        Payment, null=True, default=None, on_delete=OnDelete.restrict, db_column_name="payment_id"
    )
    starts_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)
    start_by = Timestamptz(null=True, default=None)
    granted_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null, db_column_name="granted_by_id")
    grant_reason = Text(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    revoke_reason = Text(null=True, default=None)
    revoked_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null, db_column_name="revoked_by_id")
    suspended_at = Timestamptz(null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


INDEXES = [
    # The "may watch" lookup (user, movie), the library and the staff list by user.
    'CREATE INDEX IF NOT EXISTS "entitlements_user_movie" ON "entitlements" ("user_id", "movie_id")',
    # A refund revokes by order item, a dispute suspends by payment.
    'CREATE INDEX IF NOT EXISTS "entitlements_order_item" ON "entitlements" ("order_item_id") '
    "WHERE order_item_id IS NOT NULL",
    'CREATE INDEX IF NOT EXISTS "entitlements_payment" ON "entitlements" ("payment_id") '
    "WHERE payment_id IS NOT NULL",
    # Rentals and timed grants about to end (the reminder email).
    'CREATE INDEX IF NOT EXISTS "entitlements_ending" ON "entitlements" ("expires_at") '
    "WHERE expires_at IS NOT NULL AND revoked_at IS NULL",
]

#: Every purchase as a `purchase` entitlement (see the module docstring); idempotent.
COPY_PURCHASES = (
    "INSERT INTO entitlements (user_id, movie_id, source, order_item_id, payment_id, starts_at, created_at) "
    "SELECT p.user_id, p.movie_id, 'purchase', "
    "(SELECT oi.id FROM order_items oi WHERE oi.order_id = p.order_id AND oi.movie_id = p.movie_id), "
    "(SELECT pa.id FROM payments pa WHERE pa.order_id = p.order_id AND pa.status = 'successful' "
    "ORDER BY pa.id LIMIT 1), "
    "COALESCE(p.created_at, o.created_at), COALESCE(p.created_at, o.created_at) "
    "FROM purchases p JOIN orders o ON o.id = p.order_id "
    "WHERE NOT EXISTS (SELECT 1 FROM entitlements e WHERE e.user_id = p.user_id "
    "AND e.movie_id = p.movie_id AND e.source = 'purchase' AND e.revoked_at IS NULL) "
    "ORDER BY p.id"
)


async def copy_purchases() -> None:
    """Copy the purchases into `entitlements` (the data step of `forwards`)."""
    await Entitlement.raw(COPY_PURCHASES).run()


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cinema", description=DESCRIPTION)

    async def create() -> None:
        await Entitlement.create_table(if_not_exists=True).run()
        for statement in INDEXES:
            await Entitlement.raw(statement).run()
        await copy_purchases()

    async def drop() -> None:
        await Entitlement.alter().drop_table(if_exists=True).run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
