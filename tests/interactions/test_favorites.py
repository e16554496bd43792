"""PUT/DELETE /favorites/{movie_id}: idempotent, `favorites_count` and `popularity` in step."""

from __future__ import annotations

from typing import Any

from cinema.interactions.tables import Favorite
from tests.interactions.conftest import counters, real_counts


async def test_favorite_is_idempotent(client: Any, make_user: Any, movie: int) -> None:
    user = await make_user()

    for _ in range(3):
        response = await client.put(f"/favorites/{movie}", headers=user.headers)
        assert response.status_code == 204
        assert response.content == b""

    assert await Favorite.count().where(Favorite.user == user.id).run() == 1
    state = await counters(movie)
    assert (state["favorites_count"], state["popularity"]) == (1, 1)

    for _ in range(2):
        response = await client.delete(f"/favorites/{movie}/", headers=user.headers)
        assert response.status_code == 204

    assert await Favorite.count().run() == 0
    state = await counters(movie)
    assert (state["favorites_count"], state["popularity"]) == (0, 0)


async def test_favorites_of_two_users_and_a_like_add_to_popularity(
    client: Any, make_user: Any, movie: int
) -> None:
    alice, bob = await make_user(), await make_user()
    await client.put(f"/favorites/{movie}", headers=alice.headers)
    await client.put(f"/favorites/{movie}", headers=bob.headers)
    await client.put(f"/movies/{movie}/reaction", json={"reaction": "like"}, headers=bob.headers)

    state = await counters(movie)
    assert (state["favorites_count"], state["likes"], state["popularity"]) == (2, 1, 3)
    assert state == await real_counts(movie)
