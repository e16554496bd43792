"""HTTP routes for reactions, ratings, comments, comment likes, notifications and favorites
(docs/api.md, "Catalog").

Thin: authenticate, parse, call one service function, render. DELETEs answer
204 and are idempotent (removing a reaction, rating, like or favorite that is
not there is still 204); an unknown movie or comment is 404. Who may delete a
comment is the comments service's decision.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from cinema.api.deps import OptionalUser, Paging, User
from cinema.api.errors import error_responses
from cinema.catalog.errors import MovieNotFound
from cinema.errors import NotAuthenticated
from cinema.ids import CommentId, MovieId, NotificationId
from cinema.interactions import comments, favorites, notifications, ratings, reactions
from cinema.interactions.errors import (
    CommentNotFound,
    ConcurrentUpdate,
    InvalidParent,
    InvalidText,
    NotCommentAuthor,
    NotificationNotFound,
)
from cinema.interactions.schemas import (
    CommentIn,
    CommentLikeOut,
    CommentOut,
    NotificationOut,
    RatingIn,
    RatingOut,
    ReactionIn,
    ReactionOut,
)
from cinema.pagination import Page

router = APIRouter(tags=["interactions"])


@router.put(
    "/movies/{movie_id}/reaction",
    response_model=ReactionOut,
    summary="Like or dislike a movie",
    responses=error_responses(NotAuthenticated, MovieNotFound, ConcurrentUpdate),
)
async def put_reaction(movie_id: MovieId, body: ReactionIn, user: User) -> ReactionOut:
    """One reaction per user and movie: the other kind replaces it, the same kind changes nothing."""
    return await reactions.set_reaction(user.id, movie_id, body.reaction)


@router.delete(
    "/movies/{movie_id}/reaction",
    summary="Remove your reaction",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(NotAuthenticated, MovieNotFound),
)
async def delete_reaction(movie_id: MovieId, user: User) -> None:
    """204 whether or not you had reacted; 404 for an unknown movie."""
    await reactions.remove_reaction(user.id, movie_id)


@router.put(
    "/movies/{movie_id}/rating",
    response_model=RatingOut,
    summary="Rate a movie 1..10",
    responses=error_responses(NotAuthenticated, MovieNotFound, ConcurrentUpdate),
)
async def put_rating(movie_id: MovieId, body: RatingIn, user: User) -> RatingOut:
    """One rating per user and movie; a new score replaces the old one."""
    return await ratings.set_rating(user.id, movie_id, body.score)


@router.delete(
    "/movies/{movie_id}/rating",
    summary="Remove your rating",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(NotAuthenticated, MovieNotFound),
)
async def delete_rating(movie_id: MovieId, user: User) -> None:
    """204 whether or not you had rated; 404 for an unknown movie."""
    await ratings.remove_rating(user.id, movie_id)


@router.get(
    "/movies/{movie_id}/comments",
    response_model=Page[CommentOut],
    summary="Comments on a movie",
    responses=error_responses(MovieNotFound),
)
async def get_comments(movie_id: MovieId, paging: Paging, user: OptionalUser) -> Page[CommentOut]:
    """Top-level comments, newest first, each with `replies_count` and `likes`."""
    return await comments.list_comments(movie_id, paging, user.id if user else None)


@router.post(
    "/movies/{movie_id}/comments",
    response_model=CommentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Comment on a movie, or reply to a comment",
    responses=error_responses(NotAuthenticated, MovieNotFound, CommentNotFound, InvalidParent, InvalidText),
)
async def post_comment(movie_id: MovieId, body: CommentIn, user: User) -> CommentOut:
    """`parent_id` makes a reply (it must be a comment of the same movie); its author is notified."""
    return await comments.create_comment(user.id, movie_id, body.text, body.parent_id)


@router.get(
    "/comments/{comment_id}/replies",
    response_model=Page[CommentOut],
    summary="Replies to a comment",
    responses=error_responses(CommentNotFound),
)
async def get_replies(comment_id: CommentId, paging: Paging, user: OptionalUser) -> Page[CommentOut]:
    """Direct replies, oldest first (reading order)."""
    return await comments.list_replies(comment_id, paging, user.id if user else None)


@router.delete(
    "/comments/{comment_id}",
    summary="Delete a comment and its replies",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(NotAuthenticated, NotCommentAuthor, CommentNotFound),
)
async def delete_comment(comment_id: CommentId, user: User) -> None:
    """The author or a MODERATOR and above; others get 403."""
    await comments.delete_comment(user, comment_id)


@router.put(
    "/comments/{comment_id}/like",
    response_model=CommentLikeOut,
    summary="Like a comment",
    responses=error_responses(NotAuthenticated, CommentNotFound),
)
async def put_comment_like(comment_id: CommentId, user: User) -> CommentLikeOut:
    """Idempotent; a new like of someone else's comment notifies its author."""
    return await comments.like_comment(user.id, comment_id)


@router.delete(
    "/comments/{comment_id}/like",
    summary="Remove your like of a comment",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(NotAuthenticated, CommentNotFound),
)
async def delete_comment_like(comment_id: CommentId, user: User) -> None:
    """204 whether or not you had liked it; 404 for an unknown comment."""
    await comments.unlike_comment(user.id, comment_id)


@router.get(
    "/notifications",
    response_model=Page[NotificationOut],
    summary="Your notifications",
    responses=error_responses(NotAuthenticated),
)
async def get_notifications(
    paging: Paging,
    user: User,
    unread: Annotated[bool, Query(description="Only unread notifications")] = False,
) -> Page[NotificationOut]:
    """Newest first."""
    return await notifications.list_notifications(user.id, paging, unread_only=unread)


@router.post(
    "/notifications/read-all",
    summary="Mark all your notifications read",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(NotAuthenticated),
)
async def post_read_all(user: User) -> None:
    """Marks every unread notification of the caller read."""
    await notifications.mark_all_read(user.id)


@router.post(
    "/notifications/{notification_id}/read",
    summary="Mark a notification read",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(NotAuthenticated, NotificationNotFound),
)
async def post_read(notification_id: NotificationId, user: User) -> None:
    """404 for an unknown notification or another user's."""
    await notifications.mark_read(user.id, notification_id)


@router.put(
    "/favorites/{movie_id}",
    summary="Add a movie to your favorites",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(NotAuthenticated, MovieNotFound),
)
async def put_favorite(movie_id: MovieId, user: User) -> None:
    """Idempotent; 404 for an unknown movie."""
    await favorites.add_favorite(user.id, movie_id)


@router.delete(
    "/favorites/{movie_id}",
    summary="Remove a movie from your favorites",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(NotAuthenticated, MovieNotFound),
)
async def delete_favorite(movie_id: MovieId, user: User) -> None:
    """Idempotent; 404 for an unknown movie."""
    await favorites.remove_favorite(user.id, movie_id)
