"""Denormalised counters on `movies`, moved in the same transaction as their cause.

`popularity` = likes + favorites + purchases (docs/api.md, "Catalog"), kept in step
here so no caller can forget it. Updates are relative (`SET likes = likes + 1`),
so concurrent changes do not lose counts.
"""

from __future__ import annotations

from piccolo.columns import Integer

from cinema.catalog.tables import Movie
from cinema.db import fetch
from cinema.sql import any_of, batch_size, chunks

_COUNTERS: dict[str, Integer] = {
    "likes": Movie.likes,
    "dislikes": Movie.dislikes,
    "favorites_count": Movie.favorites_count,
    "purchases_count": Movie.purchases_count,
    "ratings_count": Movie.ratings_count,
    "ratings_sum": Movie.ratings_sum,
    "comments_count": Movie.comments_count,
}
_POPULAR = {"likes", "favorites_count", "purchases_count"}


async def bump(movie_ids: int | list[int], **deltas: int) -> None:
    """Add `deltas` (e.g. `likes=1, dislikes=-1`) to the counters of one or more movies.

    Raises KeyError for an unknown counter name. Call inside the transaction
    that made the change.
    """
    deltas = {name: delta for name, delta in deltas.items() if delta}
    if not deltas:
        return
    ids = [movie_ids] if isinstance(movie_ids, int) else list(movie_ids)
    if not ids:
        return
    values = {_COUNTERS[name]: _COUNTERS[name] + delta for name, delta in deltas.items()}
    popularity = sum(delta for name, delta in deltas.items() if name in _POPULAR)
    if popularity:
        values[Movie.popularity] = Movie.popularity + popularity
    await Movie.update(values).where(Movie.id.is_in(ids)).run()  # type: ignore[arg-type]


async def recount_popularity(movie_ids: list[int]) -> None:
    """Set `popularity` from the counters it sums, after those were set anew rather than moved."""
    total = " + ".join(_COUNTERS[name]._meta.db_column_name for name in sorted(_POPULAR))
    for part in chunks(movie_ids, batch_size(sqlite=500, postgres=10_000)):
        condition, values = any_of("id", part, "int")
        await fetch(f"UPDATE movies SET popularity = {total} WHERE {condition}", *values)  # noqa: S608
