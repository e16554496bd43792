"""Scores of movies: one rating (integer 1..10) per user and movie (docs/api.md, "Catalog").

`movies.ratings_count` and `movies.ratings_sum` move in the same transaction
(`cinema.catalog.counters.bump`): a new rating adds 1 and its score, a changed
one adds `new - old` to the sum, a deleted one takes both back. The average
is `ratings_sum / ratings_count`. DELETE is idempotent (no rating: no-op, 204).
"""

from __future__ import annotations

from cinema import sql
from cinema.catalog.counters import bump
from cinema.catalog.errors import MovieNotFound
from cinema.catalog.tables import Movie
from cinema.db import locked, transaction
from cinema.interactions.common import require_movie
from cinema.interactions.errors import ConcurrentUpdate, InvalidScore
from cinema.interactions.schemas import RatingOut
from cinema.interactions.tables import Rating

MIN_SCORE = 1
MAX_SCORE = 10
_ATTEMPTS = 5


async def set_rating(user_id: int, movie_id: int, score: int) -> RatingOut:
    """Make `score` the user's rating of the movie; returns it with the movie's summary.

    Raises InvalidScore outside 1..10, MovieNotFound. Concurrent calls make one
    row (unique index `ratings_unique`).
    """
    if isinstance(score, bool) or not MIN_SCORE <= score <= MAX_SCORE:
        raise InvalidScore()
    mine = (Rating.user == user_id) & (Rating.movie == movie_id)
    async with transaction():
        await require_movie(movie_id)
        for _ in range(_ATTEMPTS):
            inserted = (
                await Rating.insert(Rating(user=user_id, movie=movie_id, score=score))
                .on_conflict(target=(Rating.user, Rating.movie), action="DO NOTHING")
                .returning(Rating.id)
                .run()
            )
            if inserted:
                await bump(movie_id, ratings_count=1, ratings_sum=score)
                break
            # Replace: read the old score under a row lock so the sum moves by the true difference.
            row = await locked(Rating.select(Rating.id, Rating.score).where(mine)).first().run()
            if row is None:
                continue  # deleted concurrently: insert again
            old = int(row["score"])
            if old != score:
                await Rating.update({Rating.score: score}).where(Rating.id == row["id"]).run()
                await bump(movie_id, ratings_sum=score - old)
            break
        else:
            raise ConcurrentUpdate()
        return await _state(user_id, movie_id)


async def remove_rating(user_id: int, movie_id: int) -> bool:
    """Delete the user's rating of the movie; True if there was one. Raises MovieNotFound."""
    async with transaction():
        await require_movie(movie_id)
        deleted = (
            await Rating.delete()
            .where((Rating.user == user_id) & (Rating.movie == movie_id))
            .returning(Rating.score)
            .run()
        )
        for row in deleted:
            await bump(movie_id, ratings_count=-1, ratings_sum=-int(row["score"]))
        return bool(deleted)


async def _state(user_id: int, movie_id: int) -> RatingOut:
    movie = (
        await Movie.select(Movie.ratings_sum, Movie.ratings_count).where(Movie.id == movie_id).first().run()
    )
    if movie is None:
        raise MovieNotFound()
    row = (
        await Rating.select(Rating.score)
        .where((Rating.user == user_id) & (Rating.movie == movie_id))
        .first()
        .run()
    )
    return RatingOut(
        movie_id=movie_id,
        score=int(row["score"]) if row else None,
        average_rating=sql.average(int(movie["ratings_sum"]), int(movie["ratings_count"])),
        ratings_count=int(movie["ratings_count"]),
    )
