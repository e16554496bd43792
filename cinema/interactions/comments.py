"""Comments, replies and comment likes (docs/api.md, "Catalog").

Rules:
- Anyone reads; a signed-in user writes. `text` is trimmed and must keep 1..5000 characters.
- A reply names its `parent_id`, which must be a comment of the same movie
  (unknown: 404 `comment_not_found`; another movie's: 422 `invalid_parent`). Replies may be
  answered in turn; each comment's `replies_count` counts its direct replies.
- `movies.comments_count` counts every comment of the movie, replies included.
- Lists: `GET /movies/{id}/comments` gives top-level comments newest first;
  `GET /comments/{id}/replies` gives a comment's direct replies oldest first
  (reading order of a conversation).
- Deleting a comment is for its author, or MODERATOR and above (`actor`; else
  403 `not_comment_author`, whichever door asks); its replies go with it; the movie's `comments_count` drops by all of them and the parent's
  `replies_count` by one.
- A like is one per user and comment; liking twice counts once. A reply or a
  like by someone else notifies the comment's author (`notifications.notify`).
"""

from __future__ import annotations

from typing import Any

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.catalog.counters import bump
from cinema.catalog.errors import MovieNotFound
from cinema.db import AfterCommit, LockMode, lock_clause, locked, transaction
from cinema.interactions.common import display_names, movie_exists, require_movie
from cinema.interactions.errors import CommentNotFound, InvalidParent, InvalidText, NotCommentAuthor
from cinema.interactions.notifications import notify
from cinema.interactions.schemas import MAX_COMMENT_LENGTH, CommentLikeOut, CommentOut
from cinema.interactions.tables import Comment, CommentLike, NotificationKind
from cinema.pagination import Page, PageParams

#: Characters of a reply quoted in its notification.
EXCERPT_LENGTH = 200

_COLUMNS = (
    Comment.id,
    Comment.movie.as_alias("movie_id"),
    Comment.parent.as_alias("parent_id"),
    Comment.user.as_alias("author_id"),
    Comment.text,
    Comment.created_at,
    Comment.replies_count,
    Comment.likes,
)


def clean_text(text: str) -> str:
    """`text` trimmed; raises InvalidText when empty or over 5000 characters."""
    text = text.strip()
    if not 1 <= len(text) <= MAX_COMMENT_LENGTH:
        raise InvalidText()
    return text


async def list_comments(movie_id: int, params: PageParams, viewer_id: int | None = None) -> Page[CommentOut]:
    """Top-level comments of the movie, newest first. Raises MovieNotFound.

    `viewer_id` (the signed-in caller, if any) fills `liked_by_me`.
    """
    if not await movie_exists(movie_id):
        raise MovieNotFound()
    where = (Comment.movie == movie_id) & Comment.parent.is_null()
    total = await Comment.count().where(where).run()
    rows = (
        await Comment.select(*_COLUMNS)
        .where(where)
        .order_by(Comment.created_at, Comment.id, ascending=False)
        .limit(params.per_page)
        .offset(params.offset)
        .run()
    )
    return Page[CommentOut].build(await _render(rows, viewer_id), params, total)


async def list_replies(comment_id: int, params: PageParams, viewer_id: int | None = None) -> Page[CommentOut]:
    """Direct replies to the comment, oldest first. Raises CommentNotFound."""
    if not await Comment.exists().where(Comment.id == comment_id).run():
        raise CommentNotFound()
    where = Comment.parent == comment_id
    total = await Comment.count().where(where).run()
    rows = (
        await Comment.select(*_COLUMNS)
        .where(where)
        .order_by(Comment.created_at, Comment.id)
        .limit(params.per_page)
        .offset(params.offset)
        .run()
    )
    return Page[CommentOut].build(await _render(rows, viewer_id), params, total)


async def _render(rows: list[dict[str, Any]], viewer_id: int | None) -> list[CommentOut]:
    names = await display_names({int(r["author_id"]) for r in rows})
    liked: set[int] | None = None
    if viewer_id is not None:
        liked = set()
        if rows:
            liked_rows = (
                await CommentLike.select(CommentLike.comment.as_alias("comment_id"))
                .where((CommentLike.user == viewer_id) & CommentLike.comment.is_in([r["id"] for r in rows]))
                .run()
            )
            liked = {int(r["comment_id"]) for r in liked_rows}
    return [_out(row, names.get(int(row["author_id"]), ""), liked) for row in rows]


def _out(row: dict[str, Any], author_name: str, liked: set[int] | None) -> CommentOut:
    return CommentOut(
        id=row["id"],
        movie_id=row["movie_id"],
        parent_id=row["parent_id"],
        author_id=row["author_id"],
        author_name=author_name,
        text=row["text"],
        created_at=row["created_at"],
        replies_count=row["replies_count"],
        likes=row["likes"],
        liked_by_me=None if liked is None else int(row["id"]) in liked,
    )


async def create_comment(user_id: int, movie_id: int, text: str, parent_id: int | None = None) -> CommentOut:
    """Post a comment (or, with `parent_id`, a reply) as `user_id`.

    Raises InvalidText, InvalidParent, MovieNotFound, CommentNotFound (the parent).
    A reply to someone else's comment notifies them
    (in-app now, email after commit).
    """
    text = clean_text(text)
    async with transaction() as hooks:
        movie = await require_movie(movie_id)
        parent: dict[str, Any] | None = None
        if parent_id is not None:
            parent = await _comment_row(parent_id)
            if parent["movie_id"] != movie_id:
                raise InvalidParent(parent_id=parent_id, movie_id=parent["movie_id"])
            # Counting the reply locks the parent: a concurrent delete of it waits for us, or we see it gone.
            counted = (
                await Comment.update({Comment.replies_count: Comment.replies_count + 1})
                .where(Comment.id == parent_id)
                .returning(Comment.id)
                .run()
            )
            if not counted:
                raise CommentNotFound()
        comment = Comment(user=user_id, movie=movie_id, parent=parent_id, text=text)
        await comment.save()
        await bump(movie_id, comments_count=1)
        row: dict[str, Any] = {
            "id": comment.id,
            "movie_id": movie_id,
            "parent_id": parent_id,
            "author_id": user_id,
            "text": text,
            "created_at": comment.created_at,
            "replies_count": 0,
            "likes": 0,
        }
        names = await display_names({user_id})
        if parent is not None:
            await _notify(
                hooks,
                kind=NotificationKind.COMMENT_REPLY,
                recipient_id=int(parent["author_id"]),
                actor_id=user_id,
                actor_name=names[user_id],
                comment_id=int(row["id"]),
                movie_id=movie_id,
                movie_name=str(movie["name"]),
                excerpt=text,
            )
        return _out(row, names[user_id], set())


async def _comment_row(comment_id: int, *, lock: LockMode | None = None) -> dict[str, Any]:
    query = Comment.select(
        Comment.id,
        Comment.movie.as_alias("movie_id"),
        Comment.parent.as_alias("parent_id"),
        Comment.user.as_alias("author_id"),
    ).where(Comment.id == comment_id)
    if lock:
        query = locked(query, lock)
    row = await query.first().run()
    if row is None:
        raise CommentNotFound()
    return dict(row)


async def _notify(
    hooks: AfterCommit,
    *,
    kind: NotificationKind,
    recipient_id: int,
    actor_id: int,
    actor_name: str,
    comment_id: int,
    movie_id: int,
    movie_name: str,
    excerpt: str = "",
) -> None:
    if kind is NotificationKind.COMMENT_REPLY:
        quoted = excerpt if len(excerpt) <= EXCERPT_LENGTH else excerpt[: EXCERPT_LENGTH - 1] + "…"
        message = f'{actor_name} replied to your comment on "{movie_name}": "{quoted}"'
    else:
        message = f'{actor_name} liked your comment on "{movie_name}".'
    await notify(
        hooks,
        recipient_id=recipient_id,
        actor_id=actor_id,
        kind=kind,
        comment_id=comment_id,
        movie_id=movie_id,
        message=message,
    )


#: The lowest role that may delete anyone's comment (docs/api.md, "Catalog").
COMMENT_MODERATOR = GroupName.MODERATOR


def may_delete(actor: CurrentUser, author_id: int) -> bool:
    """Whether `actor` may delete a comment by `author_id`: its author, or MODERATOR and above."""
    return actor.is_self(author_id) or actor.has_group(COMMENT_MODERATOR)


async def delete_comment(actor: CurrentUser, comment_id: int) -> int:
    """Delete a comment and all replies below it, as `actor`; returns how many comments went.

    Raises CommentNotFound, NotCommentAuthor (403) when `actor` is neither its
    author nor a moderator (`may_delete`).
    """
    async with transaction():
        comment = await _comment_row(comment_id)
        if not may_delete(actor, int(comment["author_id"])):
            raise NotCommentAuthor()
        parent_id = comment["parent_id"]
        if parent_id is not None:
            # Lock order is by increasing id (parent first), as for every comment lock.
            await locked(Comment.select(Comment.id).where(Comment.id == parent_id)).run()
        ids = await _lock_subtree(comment_id)
        if comment_id not in ids:
            raise CommentNotFound()  # deleted meanwhile
        await Comment.delete().where(Comment.id.is_in(ids)).run()
        if parent_id is not None:
            await (
                Comment.update({Comment.replies_count: Comment.replies_count - 1})
                .where(Comment.id == parent_id)
                .run()
            )
        await bump(int(comment["movie_id"]), comments_count=-len(ids))
        return len(ids)


_SUBTREE = """
WITH RECURSIVE subtree(id) AS (
    SELECT id FROM comments WHERE id = {}
    UNION ALL
    SELECT c.id FROM comments c JOIN subtree s ON c.parent_id = s.id
)
SELECT c.id FROM comments c WHERE c.id IN (SELECT id FROM subtree) ORDER BY c.id
"""


async def _lock_subtree(comment_id: int) -> list[int]:
    """Ids of the comment and every reply below it, locked `FOR UPDATE` on PostgreSQL.

    On PostgreSQL a reply committed while we waited for a lock is not in the
    first statement's snapshot, so the lock is repeated until the set is
    stable: then every row of the subtree is ours and no new reply can join it
    (a reply must lock its parent first). SQLite writers are serialised.
    """
    previous: list[int] | None = None
    while True:
        rows = await Comment.raw(_SUBTREE + lock_clause(of="c"), comment_id).run()
        ids = [int(r["id"]) for r in rows]
        if ids == previous:
            return ids
        previous = ids


async def like_comment(user_id: int, comment_id: int) -> CommentLikeOut:
    """Like the comment as `user_id` (idempotent: a second like changes nothing).

    Raises CommentNotFound. A new like of someone else's
    comment notifies its author.
    """
    async with transaction() as hooks:
        comment = await _comment_row(comment_id, lock="NO KEY UPDATE")
        inserted = (
            await CommentLike.insert(CommentLike(user=user_id, comment=comment_id))
            .on_conflict(target=(CommentLike.user, CommentLike.comment), action="DO NOTHING")
            .returning(CommentLike.id)
            .run()
        )
        if inserted:
            likes = await _add_likes(comment_id, 1)
            if comment["author_id"] != user_id:
                movie = await require_movie(int(comment["movie_id"]), lock=False)
                names = await display_names({user_id})
                await _notify(
                    hooks,
                    kind=NotificationKind.COMMENT_LIKE,
                    recipient_id=int(comment["author_id"]),
                    actor_id=user_id,
                    actor_name=names[user_id],
                    comment_id=comment_id,
                    movie_id=int(comment["movie_id"]),
                    movie_name=str(movie["name"]),
                )
        else:
            likes = await _likes(comment_id)
        return CommentLikeOut(comment_id=comment_id, liked=True, likes=likes)


async def unlike_comment(user_id: int, comment_id: int) -> CommentLikeOut:
    """Remove the user's like of the comment (idempotent). Raises CommentNotFound."""
    async with transaction():
        await _comment_row(comment_id, lock="NO KEY UPDATE")
        deleted = (
            await CommentLike.delete()
            .where((CommentLike.user == user_id) & (CommentLike.comment == comment_id))
            .returning(CommentLike.id)
            .run()
        )
        likes = await _add_likes(comment_id, -len(deleted)) if deleted else await _likes(comment_id)
        return CommentLikeOut(comment_id=comment_id, liked=False, likes=likes)


async def _add_likes(comment_id: int, delta: int) -> int:
    rows = (
        await Comment.update({Comment.likes: Comment.likes + delta})
        .where(Comment.id == comment_id)
        .returning(Comment.likes)
        .run()
    )
    return int(rows[0]["likes"])


async def _likes(comment_id: int) -> int:
    row = await Comment.select(Comment.likes).where(Comment.id == comment_id).first().run()
    return int(row["likes"]) if row else 0
