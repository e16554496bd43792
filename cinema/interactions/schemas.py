"""Request and response models of the interactions API (docs/api.md, "Catalog").

Field names are the contract: change them only with docs/api.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cinema.ids import Id
from cinema.interactions.tables import NotificationKind, ReactionKind
from cinema.text import NoControlCharacters

#: Longest comment, in characters after trimming.
MAX_COMMENT_LENGTH = 5000

CommentText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_COMMENT_LENGTH),
    NoControlCharacters(multiline=True),
]


class ReactionIn(BaseModel):
    """Body of `PUT /movies/{id}/reaction`."""

    model_config = ConfigDict(extra="forbid")

    reaction: ReactionKind = Field(description="`like` or `dislike`")


class ReactionOut(BaseModel):
    """The caller's reaction and the movie's counters after the change."""

    movie_id: int
    reaction: ReactionKind | None
    likes: int
    dislikes: int


class RatingIn(BaseModel):
    """Body of `PUT /movies/{id}/rating`: an integer score from 1 to 10."""

    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=10, strict=True, description="1..10")


class RatingOut(BaseModel):
    """The caller's score and the movie's rating summary after the change.

    `average_rating` is `ratings_sum / ratings_count` rounded to 2 places, or null with no ratings.
    """

    movie_id: int
    score: int | None
    average_rating: float | None
    ratings_count: int


class CommentIn(BaseModel):
    """Body of `POST /movies/{id}/comments`. `text` is trimmed; 1..5000 characters remain."""

    model_config = ConfigDict(extra="forbid")

    text: CommentText
    parent_id: Id | None = Field(default=None, description="Reply to this comment (same movie)")


class CommentOut(BaseModel):
    """A comment or reply.

    `author_name` is the display name the author chose in their profile, or
    "Member <author_id>" when they chose none (emails and real names are
    never published).
    `liked_by_me` is null for an anonymous caller.
    """

    id: int
    movie_id: int
    parent_id: int | None
    author_id: int
    author_name: str
    text: str
    created_at: datetime
    replies_count: int
    likes: int
    liked_by_me: bool | None = None


class CommentLikeOut(BaseModel):
    """The comment's like counter after `PUT`/`DELETE /comments/{id}/like`."""

    comment_id: int
    liked: bool
    likes: int


class NotificationOut(BaseModel):
    """An in-app notice: someone replied to (`comment_reply`) or liked (`comment_like`) your comment.

    `comment_id` is the reply for `comment_reply` and your liked comment for `comment_like`.
    """

    id: int
    kind: NotificationKind
    message: str
    is_read: bool
    created_at: datetime
    actor_id: int | None
    comment_id: int | None
    movie_id: int | None
