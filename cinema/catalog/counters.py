"""Denormalised counters on `movies`, moved in the same transaction as their cause.

`popularity` = likes + favorites + purchases (docs/api.md, "Catalog"), kept in step
here so no caller can forget it. Updates are relative (`SET likes = likes + 1`),
so concurrent changes do not lose counts.
"""

from __future__ import annotations

from piccolo.columns import Integer

from cinema.catalog.tables import Movie

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
