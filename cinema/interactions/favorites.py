"""Favorites: a user's saved movies (docs/api.md, "Catalog").

Both calls are idempotent (204 whatever the previous state). `movies.favorites_count`
(and `popularity`) moves only when a row is really inserted or deleted, in the
same transaction. Listing (`GET /favorites`, with the catalog's filters) is the
catalog's.
"""

from __future__ import annotations

from cinema.catalog.counters import bump
from cinema.db import transaction
from cinema.interactions.common import require_movie
from cinema.interactions.tables import Favorite


async def add_favorite(user_id: int, movie_id: int) -> bool:
    """Add the movie to the user's favorites; True if it was not there yet.

    Raises MovieNotFound. Concurrent calls make one row
    (unique index `favorites_unique`) and count once.
    """
    async with transaction():
        await require_movie(movie_id)
        inserted = (
            await Favorite.insert(Favorite(user=user_id, movie=movie_id))
            .on_conflict(target=(Favorite.user, Favorite.movie), action="DO NOTHING")
            .returning(Favorite.id)
            .run()
        )
        if inserted:
            await bump(movie_id, favorites_count=1)
        return bool(inserted)


async def remove_favorite(user_id: int, movie_id: int) -> bool:
    """Remove the movie from the user's favorites; True if it was there. Raises MovieNotFound."""
    async with transaction():
        await require_movie(movie_id)
        deleted = (
            await Favorite.delete()
            .where((Favorite.user == user_id) & (Favorite.movie == movie_id))
            .returning(Favorite.id)
            .run()
        )
        if deleted:
            await bump(movie_id, favorites_count=-len(deleted))
        return bool(deleted)
