"""PUT/DELETE /movies/{id}/reaction: one like or dislike per user and movie, counters in step."""

from __future__ import annotations

from typing import Any

import pytest

from cinema.interactions.tables import Reaction
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


@pytest.mark.parametrize("body", [{"reaction": "love"}, {"reaction": ""}, {}, {"reaction": "LIKE"}])
async def test_bad_reaction_is_422(client: Any, make_user: Any, movie: int, body: dict[str, Any]) -> None:
    user = await make_user()
    response = await client.put(f"/movies/{movie}/reaction", json=body, headers=user.headers)
    assert response.status_code == 422
    assert await Reaction.count().run() == 0
