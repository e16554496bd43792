"""Likes and dislikes of movies: one reaction per user and movie (docs/api.md, "Catalog").

A PUT with the other kind replaces the reaction; the same kind again changes
nothing. `movies.likes` / `movies.dislikes` (and `popularity`) move in the
same transaction through `cinema.catalog.counters.bump`, only when a row was
really inserted, changed or deleted, so they always equal the row counts.
DELETE is idempotent: removing a reaction that does not exist is a no-op
(the router answers 204 either way); an unknown movie is 404.
"""

from __future__ import annotations

from cinema.catalog.counters import bump
from cinema.catalog.errors import MovieNotFound
from cinema.catalog.tables import Movie
from cinema.db import transaction
from cinema.interactions.common import require_movie
from cinema.interactions.errors import ConcurrentUpdate
from cinema.interactions.schemas import ReactionOut
from cinema.interactions.tables import Reaction, ReactionKind

_COUNTER = {ReactionKind.LIKE: "likes", ReactionKind.DISLIKE: "dislikes"}
_OTHER = {ReactionKind.LIKE: ReactionKind.DISLIKE, ReactionKind.DISLIKE: ReactionKind.LIKE}
_ATTEMPTS = 5


async def set_reaction(user_id: int, movie_id: int, reaction: ReactionKind) -> ReactionOut:
    """Make `reaction` the user's reaction to the movie; returns it with the movie's counters.

    Raises MovieNotFound. Safe under concurrent calls: the
    unique index `reactions_unique` (user_id, movie_id) decides which insert wins.
    """
    async with transaction():
        await require_movie(movie_id)
        await _apply(user_id, movie_id, reaction)
        return await _state(user_id, movie_id)


async def _apply(user_id: int, movie_id: int, reaction: ReactionKind) -> None:
    mine = (Reaction.user == user_id) & (Reaction.movie == movie_id)
    for _ in range(_ATTEMPTS):
        inserted = (
            await Reaction.insert(Reaction(user=user_id, movie=movie_id, reaction=reaction.value))
            .on_conflict(target=(Reaction.user, Reaction.movie), action="DO NOTHING")
            .returning(Reaction.id)
            .run()
        )
        if inserted:
            await bump(movie_id, **{_COUNTER[reaction]: 1})
            return
        # A row exists: switch it if it holds the other kind. The UPDATE locks the
        # row and re-checks its WHERE against the latest committed version.
        changed = (
            await Reaction.update({Reaction.reaction: reaction.value})
            .where(mine & (Reaction.reaction != reaction.value))
            .returning(Reaction.id)
            .run()
        )
        if changed:
            await bump(movie_id, **{_COUNTER[reaction]: 1, _COUNTER[_OTHER[reaction]]: -1})
            return
        if await Reaction.exists().where(mine & (Reaction.reaction == reaction.value)).run():
            return  # already this reaction: nothing to count
        # The row was deleted by a concurrent DELETE between our statements: insert again.
    raise ConcurrentUpdate()


async def remove_reaction(user_id: int, movie_id: int) -> bool:
    """Delete the user's reaction to the movie; True if there was one.

    Raises MovieNotFound.
    """
    async with transaction():
        await require_movie(movie_id)
        deleted = (
            await Reaction.delete()
            .where((Reaction.user == user_id) & (Reaction.movie == movie_id))
            .returning(Reaction.reaction)
            .run()
        )
        for row in deleted:
            await bump(movie_id, **{_COUNTER[ReactionKind(row["reaction"])]: -1})
        return bool(deleted)


async def _state(user_id: int, movie_id: int) -> ReactionOut:
    movie = await Movie.select(Movie.likes, Movie.dislikes).where(Movie.id == movie_id).first().run()
    if movie is None:
        raise MovieNotFound()
    row = (
        await Reaction.select(Reaction.reaction)
        .where((Reaction.user == user_id) & (Reaction.movie == movie_id))
        .first()
        .run()
    )
    return ReactionOut(
        movie_id=movie_id,
        reaction=ReactionKind(row["reaction"]) if row else None,
        likes=int(movie["likes"]),
        dislikes=int(movie["dislikes"]),
    )
