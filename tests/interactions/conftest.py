"""Interactions fixtures: movies written straight to the catalog tables, and counter checks.

The catalog's services are someone else's and not under test here, so movies
are inserted through the tables (a Movie needs a Certification).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.tables import UserGroup
from cinema.catalog.tables import Certification, Movie
from cinema.interactions.tables import Comment, CommentLike, Favorite, Rating, Reaction
from cinema.piccolo_app import TABLES
from tests.conftest import IS_POSTGRES

MakeMovie = Callable[..., Awaitable[int]]


@pytest.fixture(autouse=True)
async def _empty_tables_children_first() -> AsyncIterator[None]:
    """Empty the tables children first after each test, before the root `clean_database`.

    On SQLite the root cleanup's `PRAGMA foreign_keys = OFF` runs on a connection
    of its own, so deleting `certifications` while `movies` point at them (ON
    DELETE RESTRICT) would fail. PostgreSQL's TRUNCATE ... CASCADE needs no help.
    """
    yield
    if IS_POSTGRES:
        return
    for table in reversed(TABLES):
        if table is not UserGroup:
            await table.delete(force=True).run()


@pytest.fixture
def make_movie() -> MakeMovie:
    """Factory: `await make_movie(name=None)` -> id of a new movie with zeroed counters."""
    counter = {"n": 0}

    async def make(name: str | None = None) -> int:
        counter["n"] += 1
        cert = await Certification.select(Certification.id).where(Certification.name == "PG-13").first().run()
        if cert is None:
            row = Certification(name="PG-13")
            await row.save()
            cert_id = int(row.id)
        else:
            cert_id = int(cert["id"])
        movie = Movie(
            name=name or f"Interaction Movie {counter['n']}",
            year=2001,
            time=100 + counter["n"],
            imdb=7.0,
            votes=100,
            description="A film for the interaction tests.",
            price=Decimal("4.99"),
            certification=cert_id,
        )
        await movie.save()
        return int(movie.id)

    return make


@pytest.fixture
async def movie(make_movie: MakeMovie) -> int:
    """One movie's id."""
    return await make_movie(name="The Test Picture")


COUNTERS = (
    "likes",
    "dislikes",
    "favorites_count",
    "ratings_count",
    "ratings_sum",
    "comments_count",
    "popularity",
    "purchases_count",
)


async def counters(movie_id: int) -> dict[str, int]:
    """The movie's denormalised counters, read from `movies`."""
    row = await Movie.select(*(getattr(Movie, c) for c in COUNTERS)).where(Movie.id == movie_id).first().run()
    assert row is not None
    return {c: int(row[c]) for c in COUNTERS}


async def real_counts(movie_id: int) -> dict[str, int]:
    """What the counters must equal: COUNT(*) / SUM over the interaction rows."""
    likes = await Reaction.count().where((Reaction.movie == movie_id) & (Reaction.reaction == "like")).run()
    dislikes = (
        await Reaction.count().where((Reaction.movie == movie_id) & (Reaction.reaction == "dislike")).run()
    )
    favorites = await Favorite.count().where(Favorite.movie == movie_id).run()
    scores = [
        int(r["score"]) for r in await Rating.select(Rating.score).where(Rating.movie == movie_id).run()
    ]
    comments = await Comment.count().where(Comment.movie == movie_id).run()
    return {
        "likes": likes,
        "dislikes": dislikes,
        "favorites_count": favorites,
        "ratings_count": len(scores),
        "ratings_sum": sum(scores),
        "comments_count": comments,
        "popularity": likes + favorites,  # + purchases, none in these tests
        "purchases_count": 0,
    }


async def comment_counters_match(movie_id: int) -> list[dict[str, Any]]:
    """Comments of the movie whose `likes` or `replies_count` differ from their rows (expected: none)."""
    wrong = []
    rows = (
        await Comment.select(Comment.id, Comment.likes, Comment.replies_count)
        .where(Comment.movie == movie_id)
        .run()
    )
    for row in rows:
        likes = await CommentLike.count().where(CommentLike.comment == row["id"]).run()
        replies = await Comment.count().where(Comment.parent == row["id"]).run()
        if (likes, replies) != (row["likes"], row["replies_count"]):
            wrong.append({**row, "real_likes": likes, "real_replies": replies})
    return wrong
