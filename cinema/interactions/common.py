"""Helpers shared by the interaction services: row locks, existence checks, display names.

Concurrency model (both engines):
- SQLite: every write transaction is `BEGIN IMMEDIATE` (`cinema.db.transaction`),
  so writers run one at a time and nothing here needs a row lock.
- PostgreSQL (READ COMMITTED): one-per-user rows are inserted with
  `INSERT ... ON CONFLICT DO NOTHING RETURNING id` on their unique index, so two
  racing inserts make one row and only the one that inserted moves a counter;
  rows whose old value a change depends on are read `FOR UPDATE` first.
  Comment rows are always locked in increasing id order (a parent is older
  than its replies, so it has the smaller id), then the movie row: no deadlocks.
"""

from __future__ import annotations

from typing import Any

from cinema.accounts.profiles import public_names
from cinema.catalog.errors import MovieNotFound
from cinema.catalog.tables import Movie
from cinema.db import locked


async def require_movie(movie_id: int, *, lock: bool = True) -> dict[str, Any]:
    """The movie's `id` and `name`; raises MovieNotFound.

    Inside a transaction on PostgreSQL `lock=True` takes `FOR KEY SHARE`, so the
    movie cannot be deleted before the transaction's rows that point at it commit.
    """
    query = Movie.select(Movie.id, Movie.name).where(Movie.id == movie_id)
    if lock:
        query = locked(query, "KEY SHARE")
    row = await query.first().run()
    if row is None:
        raise MovieNotFound()
    return dict(row)


async def movie_exists(movie_id: int) -> bool:
    """True when a movie has this id (no lock; for read-only paths)."""
    return await Movie.exists().where(Movie.id == movie_id).run()


async def display_names(user_ids: set[int]) -> dict[int, str]:
    """The public name of each user id: the display name they chose, or a neutral handle.

    Never the email or the profile's real name (accounts' `profiles.public_names`
    owns the rule; docs/privacy.md).
    """
    return await public_names(user_ids)
