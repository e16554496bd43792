"""The `entitlements` table: who may watch which movie, from what, and until when (docs/entitlements.md).

One row per right to watch. Rows are never deleted by the services: a refund,
a lost dispute or staff end a row by setting `revoked_at`, so the history of
every right stays readable.

- `source`: `purchase` (a paid order item), `rental` (a paid rental) or
  `grant` (staff, with `grant_reason` and `granted_by`).
- `order_item_id` / `payment_id`: where a paid row came from. They are
  foreign keys in the database (migration 0010, `ON DELETE RESTRICT`) but plain
  integers here: commerce sits above entitlements in the layers and this
  module may not import its tables.
- `starts_at` .. `expires_at`: the window (`expires_at` null: forever).
- `start_by`: a rental's deadline to start watching (`RENTAL_START_DAYS`);
  `expires_at` stays null until the first playback sets it to that moment plus
  `rental_hours` (`RENTAL_HOURS`, or the movie's own; both fixed at payment).
- `revoked_at` / `revoke_reason` / `revoked_by`: the end, for good.
- `suspended_at`: an open chargeback (dispute) pauses the row; winning the
  dispute clears it, losing it revokes the row.
- `reminded_at`: when the renter was told the rental ends soon (once).

Whether a row gives access now is decided in one place:
`cinema.entitlements.access` (docs/entitlements.md, "Who may watch").
"""

from __future__ import annotations

import enum

from piccolo.columns import ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.readable import Readable
from piccolo.table import Table

from cinema.accounts.tables import User
from cinema.catalog.tables import Movie


class EntitlementSource(enum.StrEnum):
    PURCHASE = "purchase"
    RENTAL = "rental"
    GRANT = "grant"


class Entitlement(Table, tablename="entitlements"):
    """A user's right to watch a movie (see the module docstring)."""

    id: Serial

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="movie_id")
    source = Varchar(length=16, choices=EntitlementSource)
    #: FOREIGN KEY to order_items (migration 0010); null for grants.
    order_item_id = Integer(null=True, default=None)
    #: FOREIGN KEY to payments (migration 0010); null for grants.
    payment_id = Integer(null=True, default=None)
    starts_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)
    start_by = Timestamptz(null=True, default=None)
    #: A rental's run once started, fixed at payment from the movie's terms (migration 0011).
    rental_hours = Integer(null=True, default=None)
    granted_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null, db_column_name="granted_by_id")
    grant_reason = Text(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    revoke_reason = Text(null=True, default=None)
    revoked_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null, db_column_name="revoked_by_id")
    suspended_at = Timestamptz(null=True, default=None)
    #: When the renter was warned that the rental ends soon (sent once).
    reminded_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # Indexes "entitlements_user_movie" (user_id, movie_id), "entitlements_payment",
    # "entitlements_order_item" and "entitlements_ending" (expires_at of live rows): migration 0010.

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s #%s", columns=[cls.source, cls.id])
