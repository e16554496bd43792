"""Concurrent requests make one row per user and thing, and counters equal COUNT(*) afterwards.

The requests run at once through `asyncio.gather`: on PostgreSQL they overlap
on separate pooled connections; on SQLite they queue on the write lock.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from cinema.interactions.tables import CommentLike, Favorite, Rating, Reaction
from tests.interactions.conftest import comment_counters_match, counters, real_counts


async def test_simultaneous_identical_puts_count_once(client: Any, make_user: Any, movie: int) -> None:
    user = await make_user()
    author = await make_user()
    comment = await client.post(f"/movies/{movie}/comments", json={"text": "c"}, headers=author.headers)
    comment_id = comment.json()["id"]

    responses = await asyncio.gather(
        *[
            client.put(f"/movies/{movie}/reaction", json={"reaction": "like"}, headers=user.headers)
            for _ in range(8)
        ],
        *[client.put(f"/favorites/{movie}", headers=user.headers) for _ in range(8)],
        *[client.put(f"/comments/{comment_id}/like", headers=user.headers) for _ in range(8)],
        *[client.put(f"/movies/{movie}/rating", json={"score": 7}, headers=user.headers) for _ in range(8)],
    )

    assert sorted({r.status_code for r in responses}) == [200, 204]
    assert await Reaction.count().run() == 1
    assert await Favorite.count().run() == 1
    assert await CommentLike.count().run() == 1
    assert await Rating.count().run() == 1
    state = await counters(movie)
    assert (state["likes"], state["favorites_count"], state["ratings_count"], state["ratings_sum"]) == (
        1,
        1,
        1,
        7,
    )
    assert state["popularity"] == 2
    assert state == await real_counts(movie)
    assert await comment_counters_match(movie) == []
    # One like, one notification, however many PUTs raced.
    listed = (await client.get("/notifications", headers=author.headers)).json()
    assert listed["total"] == 1


async def test_random_concurrent_mix_keeps_counters_equal_to_rows(
    client: Any, make_user: Any, make_movie: Any
) -> None:
    rng = random.Random(1234)
    movies = [await make_movie(), await make_movie()]
    users = [await make_user() for _ in range(4)]
    roots = []
    for movie in movies:
        response = await client.post(
            f"/movies/{movie}/comments", json={"text": "root"}, headers=users[0].headers
        )
        roots.append(response.json()["id"])

    def random_call() -> Any:
        user = rng.choice(users)
        movie = rng.choice(movies)
        root = roots[movies.index(movie)]
        kind = rng.randrange(9)
        if kind == 0:
            reaction = rng.choice(["like", "dislike"])
            return client.put(f"/movies/{movie}/reaction", json={"reaction": reaction}, headers=user.headers)
        if kind == 1:
            return client.delete(f"/movies/{movie}/reaction", headers=user.headers)
        if kind == 2:
            return client.put(
                f"/movies/{movie}/rating", json={"score": rng.randint(1, 10)}, headers=user.headers
            )
        if kind == 3:
            return client.delete(f"/movies/{movie}/rating", headers=user.headers)
        if kind == 4:
            return client.put(f"/favorites/{movie}", headers=user.headers)
        if kind == 5:
            return client.delete(f"/favorites/{movie}", headers=user.headers)
        if kind == 6:
            return client.put(f"/comments/{root}/like", headers=user.headers)
        if kind == 7:
            return client.delete(f"/comments/{root}/like", headers=user.headers)
        return client.post(
            f"/movies/{movie}/comments", json={"text": "reply", "parent_id": root}, headers=user.headers
        )

    for _ in range(3):
        responses = await asyncio.gather(*[random_call() for _ in range(40)])
        assert {r.status_code for r in responses} <= {200, 201, 204}, [
            r.text for r in responses if r.status_code >= 300
        ]

    for movie in movies:
        assert await counters(movie) == await real_counts(movie)
        assert await comment_counters_match(movie) == []


async def test_concurrent_replies_and_thread_deletes(client: Any, make_user: Any, movie: int) -> None:
    """Replies racing the deletion of their thread: counters still match the rows left."""
    alice, bob = await make_user(), await make_user()
    roots = []
    for n in range(4):
        response = await client.post(
            f"/movies/{movie}/comments", json={"text": f"root {n}"}, headers=alice.headers
        )
        roots.append(response.json()["id"])
    middles = []
    for root in roots:
        body = {"text": "middle", "parent_id": root}
        response = await client.post(f"/movies/{movie}/comments", json=body, headers=bob.headers)
        middles.append(response.json()["id"])

    calls = []
    for root, middle in zip(roots, middles, strict=True):
        for _ in range(3):
            calls.append(
                client.post(
                    f"/movies/{movie}/comments",
                    json={"text": "leaf", "parent_id": middle},
                    headers=bob.headers,
                )
            )
            calls.append(client.put(f"/comments/{middle}/like", headers=alice.headers))
        calls.append(client.delete(f"/comments/{root}", headers=alice.headers))
        calls.append(client.delete(f"/comments/{middle}", headers=bob.headers))
    rng = random.Random(99)
    rng.shuffle(calls)
    responses = await asyncio.gather(*calls)

    # A reply or like that lost the race to its thread's deletion is a 404; nothing else fails.
    assert {r.status_code for r in responses} <= {200, 201, 204, 404}
    assert await counters(movie) == await real_counts(movie)
    assert await comment_counters_match(movie) == []
    assert (await counters(movie))["comments_count"] == 0
