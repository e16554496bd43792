"""Interaction tables: reactions, ratings, comments, comment likes, favorites, notifications."""

from __future__ import annotations

import enum

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from cinema.accounts.tables import User
from cinema.catalog.tables import Movie


class ReactionKind(enum.StrEnum):
    LIKE = "like"
    DISLIKE = "dislike"


class NotificationKind(enum.StrEnum):
    COMMENT_REPLY = "comment_reply"
    COMMENT_LIKE = "comment_like"


class Reaction(Table, tablename="reactions"):
    """One like or dislike per user and movie."""

    id: Serial

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="movie_id")
    reaction = Varchar(length=10, choices=ReactionKind)
    created_at = Timestamptz(default=TimestamptzNow())
    # UNIQUE(user_id, movie_id) as unique index "reactions_unique": migration 0003.


class Rating(Table, tablename="ratings"):
    """One score (1..10) per user and movie."""

    id: Serial

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="movie_id")
    score = Integer()
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)
    # UNIQUE(user_id, movie_id) as unique index "ratings_unique": migration 0003.


class Comment(Table, tablename="comments"):
    """A comment on a movie; `parent` set makes it a reply."""

    id: Serial

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="user_id")
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="movie_id")
    parent: ForeignKey[Comment] = ForeignKey(
        "self", null=True, on_delete=OnDelete.cascade, index=True, db_column_name="parent_id"
    )
    text = Text()
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    replies_count = Integer(default=0)
    likes = Integer(default=0)


class CommentLike(Table, tablename="comment_likes"):
    id: Serial
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    comment = ForeignKey(
        Comment, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="comment_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())
    # UNIQUE(user_id, comment_id) as unique index "comment_likes_unique": migration 0003.


class Favorite(Table, tablename="favorites"):
    id: Serial
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="movie_id")
    created_at = Timestamptz(default=TimestamptzNow())
    # UNIQUE(user_id, movie_id) as unique index "favorites_unique": migration 0003.


class Notification(Table, tablename="notifications"):
    """In-app notice to `user` about something `actor` did to their comment."""

    id: Serial

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="user_id")
    actor = ForeignKey(User, null=True, on_delete=OnDelete.set_null, db_column_name="actor_id")
    kind = Varchar(length=20, choices=NotificationKind)
    comment = ForeignKey(Comment, null=True, on_delete=OnDelete.cascade, db_column_name="comment_id")
    message = Text()
    is_read = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
