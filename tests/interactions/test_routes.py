"""Every interaction route: an unknown movie is 404 `movie_not_found`, bad ids 422, no token 401."""

from __future__ import annotations

from typing import Any

from tests.interactions.conftest import counters, real_counts


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
