"""Rentals: what a movie offers, which offer a cart or order item takes, and a rental's own terms.

- `movies.rental_price` (null: the movie is not offered for rent),
  `movies.rental_start_days` and `movies.rental_hours` (null: the settings
  `RENTAL_START_DAYS` / `RENTAL_HOURS`);
- `cart_items.offer` and `order_items.offer`: `buy` (every existing row) or
  `rent`;
- `entitlements.rental_hours`: how long a paid rental runs once started,
  fixed when it was paid (docs/entitlements.md, "Rentals").

All columns are nullable or have a default, so existing rows stay valid and
an older release keeps working on the new schema. Going backwards drops them.
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Numeric, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T00:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rentals: movie rental price and window, cart and order item offer, rental hours"


def _params(**given: Any) -> dict[str, Any]:
    return {
        "default": None,
        "null": True,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **given,
    }


#: (table class, table, column, column class, its parameters)
COLUMNS: list[tuple[str, str, str, Any, dict[str, Any]]] = [
    ("Movie", "movies", "rental_price", Numeric, _params(digits=(10, 2))),
    ("Movie", "movies", "rental_start_days", Integer, _params()),
    ("Movie", "movies", "rental_hours", Integer, _params()),
    ("CartItem", "cart_items", "offer", Varchar, _params(length=8, default="buy", null=False)),
    ("OrderItem", "order_items", "offer", Varchar, _params(length=8, default="buy", null=False)),
    ("Entitlement", "entitlements", "rental_hours", Integer, _params()),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cinema", description=DESCRIPTION)
    for class_name, table, column, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name=class_name,
            tablename=table,
            column_name=column,
            db_column_name=column,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
