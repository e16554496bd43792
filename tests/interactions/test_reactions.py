"""PUT/DELETE /movies/{id}/reaction and /rating: one per user and movie, counters in step."""

from __future__ import annotations

from typing import Any

import pytest

from cinema.interactions.tables import Rating, Reaction
from tests.interactions.conftest import counters, real_counts


async def test_like_then_dislike_replaces_the_reaction(client: Any, make_user: Any, movie: int) -> None:
    user = await make_user()

    liked = await client.put(f"/movies/{movie}/reaction", json={"reaction": "like"}, headers=user.headers)
    assert liked.status_code == 200
    assert liked.json() == {"movie_id": movie, "reaction": "like", "likes": 1, "dislikes": 0}

    again = await client.put(f"/movies/{movie}/reaction", json={"reaction": "like"}, headers=user.headers)
    assert again.json() == {"movie_id": movie, "reaction": "like", "likes": 1, "dislikes": 0}

    changed = await client.put(
        f"/movies/{movie}/reaction", json={"reaction": "dislike"}, headers=user.headers
    )
    assert changed.status_code == 200
    assert changed.json() == {"movie_id": movie, "reaction": "dislike", "likes": 0, "dislikes": 1}

    rows = await Reaction.select(Reaction.reaction).where(Reaction.movie == movie).run()
    assert rows == [{"reaction": "dislike"}]
    state = await counters(movie)
    assert (state["likes"], state["dislikes"], state["popularity"]) == (0, 1, 0)


async def test_reactions_of_several_users_are_counted(client: Any, make_user: Any, movie: int) -> None:
    users = [await make_user() for _ in range(3)]
    for user, kind in zip(users, ["like", "like", "dislike"], strict=True):
        response = await client.put(
            f"/movies/{movie}/reaction", json={"reaction": kind}, headers=user.headers
        )
        assert response.status_code == 200

    state = await counters(movie)
    assert (state["likes"], state["dislikes"], state["popularity"]) == (2, 1, 2)

    deleted = await client.delete(f"/movies/{movie}/reaction", headers=users[0].headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    state = await counters(movie)
    assert (state["likes"], state["dislikes"], state["popularity"]) == (1, 1, 1)
    assert state == await real_counts(movie)


async def test_delete_reaction_is_idempotent(client: Any, make_user: Any, movie: int) -> None:
    user = await make_user()
    await client.put(f"/movies/{movie}/reaction/", json={"reaction": "dislike"}, headers=user.headers)

    first = await client.delete(f"/movies/{movie}/reaction", headers=user.headers)
    second = await client.delete(f"/movies/{movie}/reaction/", headers=user.headers)

    assert (first.status_code, second.status_code) == (204, 204)
    assert (await counters(movie))["dislikes"] == 0


async def test_rating_replaces_and_moves_the_average(client: Any, make_user: Any, movie: int) -> None:
    alice, bob = await make_user(), await make_user()

    first = await client.put(f"/movies/{movie}/rating", json={"score": 8}, headers=alice.headers)
    assert first.status_code == 200
    assert first.json() == {"movie_id": movie, "score": 8, "average_rating": 8.0, "ratings_count": 1}

    bob_rates = await client.put(f"/movies/{movie}/rating", json={"score": 3}, headers=bob.headers)
    assert bob_rates.json() == {"movie_id": movie, "score": 3, "average_rating": 5.5, "ratings_count": 2}

    changed = await client.put(f"/movies/{movie}/rating", json={"score": 10}, headers=alice.headers)
    assert changed.json() == {"movie_id": movie, "score": 10, "average_rating": 6.5, "ratings_count": 2}

    rows = await Rating.select(Rating.score).where(Rating.movie == movie).order_by(Rating.score).run()
    assert [r["score"] for r in rows] == [3, 10]
    state = await counters(movie)
    assert (state["ratings_count"], state["ratings_sum"]) == (2, 13)

    removed = await client.delete(f"/movies/{movie}/rating", headers=bob.headers)
    assert removed.status_code == 204
    state = await counters(movie)
    assert (state["ratings_count"], state["ratings_sum"]) == (1, 10)
    assert (await client.delete(f"/movies/{movie}/rating", headers=bob.headers)).status_code == 204
    assert state == await real_counts(movie)


@pytest.mark.parametrize("score", [0, 11, -1, 5.5, "7", None])
async def test_rating_out_of_range_is_422(client: Any, make_user: Any, movie: int, score: Any) -> None:
    user = await make_user()
    response = await client.put(f"/movies/{movie}/rating", json={"score": score}, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert await Rating.count().run() == 0


@pytest.mark.parametrize("body", [{"reaction": "love"}, {"reaction": ""}, {}, {"reaction": "LIKE"}])
async def test_bad_reaction_is_422(client: Any, make_user: Any, movie: int, body: dict[str, Any]) -> None:
    user = await make_user()
    response = await client.put(f"/movies/{movie}/reaction", json=body, headers=user.headers)
    assert response.status_code == 422
    assert await Reaction.count().run() == 0


async def test_unknown_movie_is_404(client: Any, make_user: Any) -> None:
    user = await make_user()
    calls = [
        client.put("/movies/999999/reaction", json={"reaction": "like"}, headers=user.headers),
        client.delete("/movies/999999/reaction", headers=user.headers),
        client.put("/movies/999999/rating", json={"score": 5}, headers=user.headers),
        client.delete("/movies/999999/rating", headers=user.headers),
        client.put("/favorites/999999", headers=user.headers),
        client.delete("/favorites/999999", headers=user.headers),
        client.get("/movies/999999/comments"),
        client.post("/movies/999999/comments", json={"text": "hi"}, headers=user.headers),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 404, response.request.url
        assert response.json()["code"] == "movie_not_found"


async def test_out_of_range_ids_are_422_not_500(client: Any, make_user: Any) -> None:
    user = await make_user()
    huge = 2**40
    assert (await client.put(f"/favorites/{huge}", headers=user.headers)).status_code == 422
    assert (await client.get(f"/comments/{huge}/replies")).status_code == 422
    assert (await client.put("/favorites/abc", headers=user.headers)).status_code == 422


async def test_anonymous_caller_is_401(client: Any, movie: int) -> None:
    calls = [
        client.put(f"/movies/{movie}/reaction", json={"reaction": "like"}),
        client.delete(f"/movies/{movie}/reaction"),
        client.put(f"/movies/{movie}/rating", json={"score": 5}),
        client.delete(f"/movies/{movie}/rating"),
        client.post(f"/movies/{movie}/comments", json={"text": "hi"}),
        client.delete("/comments/1"),
        client.put("/comments/1/like"),
        client.delete("/comments/1/like"),
        client.get("/notifications"),
        client.post("/notifications/1/read"),
        client.post("/notifications/read-all"),
        client.put(f"/favorites/{movie}"),
        client.delete(f"/favorites/{movie}"),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 401, response.request.url
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await counters(movie) == await real_counts(movie)
