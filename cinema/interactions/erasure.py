"""Deleting a user account, and recounting what their interactions counted.

A user's reactions, ratings, favorites, comments (with the replies under
them) and comment likes go with the account (`ON DELETE CASCADE`), but the
denormalised counters they moved do not: `movies.likes`, `dislikes`,
`favorites_count`, `ratings_count`, `ratings_sum`, `comments_count` and
`popularity`, and `comments.replies_count` and `comments.likes`. This module
notes which movies and comments the user touched just before the row goes and
recounts them from the rows that remain, in the same transaction.

Accounts sits below catalog and interactions (docs/architecture.md), so it
cannot reach these counters itself: every door deletes users through
`delete_user` here, which calls accounts' `management.delete_user` (where
the access and last-ADMIN rules live).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cinema.accounts import management
from cinema.accounts.actor import CurrentUser
from cinema.accounts.queries import UserRef
from cinema.accounts.schemas import UserOut
from cinema.catalog.counters import recount_popularity
from cinema.db import fetch, transaction
from cinema.interactions.tables import ReactionKind
from cinema.sql import any_of, batch_size, chunks

_TOUCHED_MOVIES_SQL = (
    "SELECT movie_id FROM reactions WHERE user_id = {} "
    "UNION SELECT movie_id FROM ratings WHERE user_id = {} "
    "UNION SELECT movie_id FROM favorites WHERE user_id = {} "
    "UNION SELECT movie_id FROM comments WHERE user_id = {}"
)
#: Comments that stay but counted the user: the parents of their comments, and those they liked.
_TOUCHED_COMMENTS_SQL = (
    "SELECT parent_id AS id FROM comments WHERE user_id = {} AND parent_id IS NOT NULL "
    "UNION SELECT comment_id AS id FROM comment_likes WHERE user_id = {}"
)

_RECOUNT_MOVIES_SQL = (
    "UPDATE movies SET "
    "likes = (SELECT COUNT(*) FROM reactions r WHERE r.movie_id = movies.id AND r.reaction = {}), "
    "dislikes = (SELECT COUNT(*) FROM reactions r WHERE r.movie_id = movies.id AND r.reaction = {}), "
    "favorites_count = (SELECT COUNT(*) FROM favorites f WHERE f.movie_id = movies.id), "
    "ratings_count = (SELECT COUNT(*) FROM ratings t WHERE t.movie_id = movies.id), "
    "ratings_sum = (SELECT COALESCE(SUM(t.score), 0) FROM ratings t WHERE t.movie_id = movies.id), "
    "comments_count = (SELECT COUNT(*) FROM comments c WHERE c.movie_id = movies.id) "
    "WHERE "
)
_RECOUNT_COMMENTS_SQL = (
    "UPDATE comments SET "
    "replies_count = (SELECT COUNT(*) FROM comments r WHERE r.parent_id = comments.id), "
    "likes = (SELECT COUNT(*) FROM comment_likes l WHERE l.comment_id = comments.id) "
    "WHERE "
)


@dataclass
class Touched:
    """The movies and comments whose counters a user's rows are part of."""

    movies: list[int] = field(default_factory=list)
    comments: list[int] = field(default_factory=list)

    async def note(self, user_id: int) -> None:
        """Read them for `user_id` (inside the deleting transaction, before the delete)."""
        self.movies = sorted(int(r["movie_id"]) for r in await fetch(_TOUCHED_MOVIES_SQL, *[user_id] * 4))
        self.comments = sorted(int(r["id"]) for r in await fetch(_TOUCHED_COMMENTS_SQL, user_id, user_id))


async def recount_movies(movie_ids: Sequence[int]) -> None:
    """Set the interaction counters (and `popularity`) of these movies from the rows that exist now."""
    for part in chunks(list(movie_ids), batch_size(sqlite=500, postgres=10_000)):
        condition, values = any_of("id", part, "int")
        await fetch(
            _RECOUNT_MOVIES_SQL + condition, ReactionKind.LIKE.value, ReactionKind.DISLIKE.value, *values
        )
    await recount_popularity(list(movie_ids))


async def recount_comments(comment_ids: Sequence[int]) -> None:
    """Set `replies_count` and `likes` of these comments from the rows that exist now."""
    for part in chunks(list(comment_ids), batch_size(sqlite=500, postgres=10_000)):
        condition, values = any_of("id", part, "int")
        await fetch(_RECOUNT_COMMENTS_SQL + condition, *values)


async def delete_user(actor: CurrentUser, ref: UserRef) -> UserOut:
    """Delete the account (accounts' rules: ADMIN only, not the last ADMIN, no orders) and recount.

    Returns the deleted user. Raises what `management.delete_user` raises;
    then nothing changed.
    """
    touched = Touched()
    async with transaction():
        deleted = await management.delete_user(actor, ref, before_delete=touched.note)
        await recount_movies(touched.movies)
        await recount_comments(touched.comments)
    return deleted
