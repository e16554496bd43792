"""The interaction rules, called as services (no HTTP): who may delete a comment, replies, scores, 404s.

The API routes, the admin's comment door and any other caller go through these
functions, so a rule checked here holds for all of them.
"""

from __future__ import annotations

from typing import Any

import pytest

from cinema.accounts.actor import OPERATOR, CurrentUser, GroupName
from cinema.catalog.errors import MovieNotFound
from cinema.interactions import comments, favorites, notifications, ratings, reactions
from cinema.interactions.errors import (
    CommentNotFound,
    InvalidParent,
    InvalidScore,
    InvalidText,
    NotCommentAuthor,
    NotificationNotFound,
)
from cinema.interactions.tables import Comment, Notification, ReactionKind
from cinema.pagination import PageParams
from tests.interactions.conftest import MakeMovie, comment_counters_match, counters, real_counts


def _actor(account: Any, group: GroupName | None = None) -> CurrentUser:
    return CurrentUser(id=account.id, email=account.email, group=group or account.group, session_id="")


async def test_only_the_author_or_a_moderator_deletes_a_comment(make_user: Any, movie: int) -> None:
    author, other = await make_user(), await make_user()
    moderator = await make_user(group=GroupName.MODERATOR)
    first = await comments.create_comment(author.id, movie, "First")
    second = await comments.create_comment(author.id, movie, "Second")
    third = await comments.create_comment(author.id, movie, "Third")

    with pytest.raises(NotCommentAuthor) as refused:
        await comments.delete_comment(_actor(other), first.id)
    assert (refused.value.status_code, refused.value.code, refused.value.detail) == (
        403,
        "not_comment_author",
        "Only the comment's author or a moderator can delete it.",
    )
    assert await Comment.count().run() == 3

    assert await comments.delete_comment(_actor(author), first.id) == 1
    assert await comments.delete_comment(_actor(moderator), second.id) == 1
    # The operator (no account, ADMIN rights) may moderate too.
    assert await comments.delete_comment(OPERATOR, third.id) == 1
    assert await Comment.count().run() == 0
    assert await counters(movie) == await real_counts(movie)


async def test_deleting_a_thread_takes_its_replies_and_moves_the_counters(make_user: Any, movie: int) -> None:
    alice, bob = await make_user(), await make_user()
    root = await comments.create_comment(alice.id, movie, "Root")
    reply = await comments.create_comment(bob.id, movie, "Reply", parent_id=root.id)
    await comments.create_comment(alice.id, movie, "Reply to reply", parent_id=reply.id)
    assert (await counters(movie))["comments_count"] == 3

    assert await comments.delete_comment(_actor(bob), reply.id) == 2
    listed = await comments.list_comments(movie, PageParams())
    assert [(c.text, c.replies_count) for c in listed.items] == [("Root", 0)]
    assert await comment_counters_match(movie) == []
    assert await counters(movie) == await real_counts(movie)

    with pytest.raises(CommentNotFound):
        await comments.delete_comment(_actor(bob), reply.id)


async def test_a_reply_stays_under_its_movie(make_user: Any, make_movie: MakeMovie) -> None:
    user = await make_user()
    movie_a, movie_b = await make_movie(), await make_movie()
    on_a = await comments.create_comment(user.id, movie_a, "On A")

    with pytest.raises(InvalidParent) as elsewhere:
        await comments.create_comment(user.id, movie_b, "Reply", parent_id=on_a.id)
    assert (elsewhere.value.status_code, elsewhere.value.code) == (422, "invalid_parent")
    assert elsewhere.value.extra == {"parent_id": on_a.id, "movie_id": movie_a}
    with pytest.raises(CommentNotFound):
        await comments.create_comment(user.id, movie_a, "Reply", parent_id=999_999)
    assert await Comment.count().run() == 1


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 5001])
async def test_comment_text_is_1_to_5000_characters_after_trimming(
    make_user: Any, movie: int, text: str
) -> None:
    user = await make_user()
    with pytest.raises(InvalidText) as refused:
        await comments.create_comment(user.id, movie, text)
    assert (refused.value.code, refused.value.detail) == (
        "invalid_text",
        "A comment needs 1 to 5000 characters of text.",
    )
    kept = await comments.create_comment(user.id, movie, "  " + "x" * 5000 + "  ")
    assert len(kept.text) == 5000


@pytest.mark.parametrize("score", [0, 11, True])
async def test_a_score_is_an_integer_from_1_to_10(make_user: Any, movie: int, score: Any) -> None:
    user = await make_user()
    with pytest.raises(InvalidScore) as refused:
        await ratings.set_rating(user.id, movie, score)
    assert (refused.value.status_code, refused.value.code) == (422, "invalid_score")
    assert (await counters(movie))["ratings_count"] == 0


async def test_an_unknown_movie_is_movie_not_found_in_every_service(make_user: Any) -> None:
    user = await make_user()
    calls = [
        reactions.set_reaction(user.id, 999_999, ReactionKind.LIKE),
        reactions.remove_reaction(user.id, 999_999),
        ratings.set_rating(user.id, 999_999, 5),
        ratings.remove_rating(user.id, 999_999),
        favorites.add_favorite(user.id, 999_999),
        favorites.remove_favorite(user.id, 999_999),
        comments.list_comments(999_999, PageParams()),
        comments.create_comment(user.id, 999_999, "Hello"),
    ]
    for call in calls:
        with pytest.raises(MovieNotFound) as missing:
            await call
        assert (missing.value.code, missing.value.detail) == ("movie_not_found", "The movie does not exist.")


async def test_a_notification_is_its_recipients_only(make_user: Any, movie: int) -> None:
    alice, bob = await make_user(), await make_user()
    root = await comments.create_comment(alice.id, movie, "Root")
    await comments.create_comment(bob.id, movie, "Reply", parent_id=root.id)
    [notice] = (await notifications.list_notifications(alice.id, PageParams())).items

    with pytest.raises(NotificationNotFound) as hidden:
        await notifications.mark_read(bob.id, notice.id)
    assert (hidden.value.status_code, hidden.value.code) == (404, "notification_not_found")
    await notifications.mark_read(alice.id, notice.id)
    assert await Notification.count().where(Notification.is_read.eq(True)).run() == 1
