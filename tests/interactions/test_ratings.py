"""PUT/DELETE /movies/{id}/rating: one score (1..10) per user and movie, the average in step."""

from __future__ import annotations

from typing import Any

import pytest

from cinema.interactions.tables import Rating
from tests.interactions.conftest import counters, real_counts


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
