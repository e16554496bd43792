"""Deleting a user (`cinema.interactions.erasure.delete_user`, what every door calls).

The account's interactions go with it, and the counters they moved follow
in the same transaction: the movies' likes, dislikes, favorites, ratings,
comments and popularity, and the comments' replies and likes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from cinema.accounts.actor import OPERATOR, CurrentUser, GroupName
from cinema.accounts.errors import LastAdmin, RoleRequired, UserHasOrders, UserNotFound
from cinema.accounts.tables import User
from cinema.catalog.tables import Certification, Movie
from cinema.commerce.tables import Order
from cinema.interactions import erasure
from cinema.interactions.tables import Comment, CommentLike, Favorite, Rating, Reaction

COUNTERS = (
    "likes",
    "dislikes",
    "favorites_count",
    "ratings_count",
    "ratings_sum",
    "comments_count",
    "popularity",
)


async def _movie(name: str) -> int:
    cert = await Certification.select(Certification.id).where(Certification.name == "PG").first().run()
    if cert is None:
        made = Certification(name="PG")
        await made.save()
        cert_id = int(made.id)
    else:
        cert_id = int(cert["id"])
    movie = Movie(
        name=name,
        year=1999,
        time=120,
        imdb=7.5,
        votes=10,
        description="For the deletion tests.",
        price=Decimal("3.00"),
        certification=cert_id,
    )
    await movie.save()
    return int(movie.id)


async def _counters(movie_id: int) -> dict[str, int]:
    row = await Movie.select(*(getattr(Movie, c) for c in COUNTERS)).where(Movie.id == movie_id).first().run()
    assert row is not None
    return {c: int(row[c]) for c in COUNTERS}


async def _comment(row_id: int) -> dict[str, int]:
    row = await Comment.select(Comment.replies_count, Comment.likes).where(Comment.id == row_id).first().run()
    assert row is not None
    return {"replies_count": int(row["replies_count"]), "likes": int(row["likes"])}


async def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


async def test_deleting_a_user_recounts_what_their_interactions_counted(client, make_user) -> None:
    stays = await make_user(email="stays@example.com")
    leaves = await make_user(email="leaves@example.com")
    first, second, untouched = await _movie("First"), await _movie("Second"), await _movie("Untouched")
    # Both users act on `first`; only the leaving one on `second`.
    for user, reaction, score in ((stays, "like", 6), (leaves, "like", 10)):
        await _ok(
            await client.put(f"/movies/{first}/reaction", headers=user.headers, json={"reaction": reaction})
        )
        await _ok(await client.put(f"/movies/{first}/rating", headers=user.headers, json={"score": score}))
        await _ok(await client.put(f"/favorites/{first}", headers=user.headers))
    await _ok(
        await client.put(f"/movies/{second}/reaction", headers=leaves.headers, json={"reaction": "dislike"})
    )
    await _ok(await client.put(f"/movies/{second}/rating", headers=leaves.headers, json={"score": 3}))
    await _ok(
        await client.put(f"/movies/{untouched}/reaction", headers=stays.headers, json={"reaction": "like"})
    )
    # A thread: stays' comment, a reply and a like on it by the leaving user; the leaving
    # user's own comment, with a reply by stays (which goes with it).
    kept = await _ok(
        await client.post(f"/movies/{first}/comments", headers=stays.headers, json={"text": "Kept"})
    )
    await _ok(
        await client.post(
            f"/movies/{first}/comments",
            headers=leaves.headers,
            json={"text": "Reply", "parent_id": kept["id"]},
        )
    )
    await _ok(await client.put(f"/comments/{kept['id']}/like", headers=leaves.headers))
    gone = await _ok(
        await client.post(f"/movies/{second}/comments", headers=leaves.headers, json={"text": "Mine"})
    )
    await _ok(
        await client.post(
            f"/movies/{second}/comments",
            headers=stays.headers,
            json={"text": "Answer", "parent_id": gone["id"]},
        )
    )
    assert await _counters(first) == {
        "likes": 2,
        "dislikes": 0,
        "favorites_count": 2,
        "ratings_count": 2,
        "ratings_sum": 16,
        "comments_count": 2,
        "popularity": 4,
    }
    assert await _comment(kept["id"]) == {"replies_count": 1, "likes": 1}
    before_untouched = await _counters(untouched)

    deleted = await erasure.delete_user(OPERATOR, "leaves@example.com")

    assert (deleted.id, deleted.email) == (leaves.id, "leaves@example.com")
    assert await User.count().where(User.id == leaves.id).run() == 0
    assert await _counters(first) == {
        "likes": 1,
        "dislikes": 0,
        "favorites_count": 1,
        "ratings_count": 1,
        "ratings_sum": 6,
        "comments_count": 1,
        "popularity": 2,
    }
    assert await _counters(second) == dict.fromkeys(COUNTERS, 0)  # the reply went with its parent
    assert (
        await _counters(untouched)
        == before_untouched
        == {**dict.fromkeys(COUNTERS, 0), "likes": 1, "popularity": 1}
    )
    assert await _comment(kept["id"]) == {"replies_count": 0, "likes": 0}
    for table in (Reaction, Rating, Favorite, Comment, CommentLike):
        assert await table.count().where(table.user == leaves.id).run() == 0
    # What the API shows agrees.
    shown = await _ok(await client.get(f"/movies/{first}"))
    assert (shown["likes"], shown["ratings_count"], shown["average_rating"], shown["comments_count"]) == (
        1,
        1,
        6.0,
        1,
    )


async def test_a_refused_deletion_changes_nothing(client, make_user) -> None:
    admin = await make_user(email="admin@example.com", group=GroupName.ADMIN)
    buyer = await make_user(email="buyer@example.com")
    movie = await _movie("Bought")
    await _ok(await client.put(f"/movies/{movie}/reaction", headers=buyer.headers, json={"reaction": "like"}))
    await Order(user=buyer.id, total_amount="3.00").save()
    moderator = CurrentUser(
        id=admin.id + 100, email="m@example.com", group=GroupName.MODERATOR, session_id=""
    )

    with pytest.raises(UserHasOrders) as kept:
        await erasure.delete_user(OPERATOR, buyer.id)
    assert (kept.value.status_code, kept.value.code) == (409, "user_has_orders")
    with pytest.raises(RoleRequired):
        await erasure.delete_user(moderator, buyer.id)
    with pytest.raises(LastAdmin):
        await erasure.delete_user(OPERATOR, admin.id)
    with pytest.raises(UserNotFound):
        await erasure.delete_user(OPERATOR, "nobody@example.com")

    assert await User.count().run() == 2
    assert (await _counters(movie))["likes"] == 1
    assert await Reaction.count().where(Reaction.user == buyer.id).run() == 1
