"""The rental reminder: a renter is warned once, a day before a started rental ends (docs/entitlements.md, "Rentals").

`remind_ending_rentals` is the scheduled task's work (`cinema.tasks`,
`RENTAL_REMINDER_CRON`). Each run claims the live, started rentals ending
within `REMINDER_BEFORE` that were never reminded, by setting their
`reminded_at` in one `UPDATE ... RETURNING`, and emails each renter after
commit. The claim is the record that the email went out: a later run, or a
second scheduler running at the same moment, finds the row claimed and sends
nothing (on PostgreSQL the second UPDATE waits for the first's row locks and
then re-checks `reminded_at IS NULL`; SQLite runs one writer at a time).

A rental that runs `REMINDER_BEFORE` or less in all gets no reminder: it
would arrive the moment the rental starts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cinema import clock
from cinema.db import fetch, transaction
from cinema.entitlements.access import live_sql
from cinema.jobs import enqueue_email
from cinema.sql import any_of, as_datetime

#: How long before a rental ends its renter is warned.
REMINDER_BEFORE = timedelta(hours=24)

_CLAIM = (
    "UPDATE entitlements SET reminded_at = {} "  # noqa: S608 - fixed fragments only
    "WHERE source = 'rental' AND reminded_at IS NULL AND expires_at IS NOT NULL "
    f"AND expires_at <= {{}} AND rental_hours > {{}} AND {live_sql('entitlements', '{}')} "
    "RETURNING id, user_id, movie_id, expires_at"
)


async def remind_ending_rentals(now: datetime | None = None) -> int:
    """Email every renter whose started rental ends within `REMINDER_BEFORE`, once; returns how many."""
    now = now or clock.utcnow()
    hours_before = int(REMINDER_BEFORE.total_seconds() // 3600)
    async with transaction() as hooks:
        claimed = await fetch(_CLAIM, now, now + REMINDER_BEFORE, hours_before, now)
        if not claimed:
            return 0
        users, user_values = any_of("id", sorted({int(r["user_id"]) for r in claimed}), "int4")
        movies, movie_values = any_of("id", sorted({int(r["movie_id"]) for r in claimed}), "int4")
        emails = {
            int(r["id"]): str(r["email"])
            for r in await fetch(f"SELECT id, email FROM users WHERE {users}", *user_values)  # noqa: S608
        }
        names = {
            int(r["id"]): str(r["name"])
            for r in await fetch(f"SELECT id, name FROM movies WHERE {movies}", *movie_values)  # noqa: S608
        }
        for row in sorted(claimed, key=lambda r: int(r["id"])):
            ends = as_datetime(row["expires_at"])
            hooks.add(
                enqueue_email(
                    "rental_ending",
                    emails[int(row["user_id"])],
                    movie=names[int(row["movie_id"])],
                    movie_id=int(row["movie_id"]),
                    ends_at=ends.strftime("%Y-%m-%d %H:%M UTC"),
                )
            )
    return len(claimed)
