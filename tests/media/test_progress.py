"""Continue watching: saving, clearing and listing positions (docs/media.md, "Continue watching")."""

from __future__ import annotations

import pytest

from cinema.accounts.actor import GroupName
from cinema.media.tables import MediaKind, WatchProgress
from tests.media.conftest import buy, make_movie


@pytest.fixture
async def watched(make_user, samples, attach) -> tuple:
    """A buyer of a movie with a 3 s feature."""
    buyer = await make_user()
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, samples.webm)
    await buy(buyer.id, movie)
    return buyer, movie


async def _rows(user_id: int) -> list[dict]:
    return await WatchProgress.select().where(WatchProgress.user == user_id).run()


async def test_saving_a_position_resumes_there(client, watched) -> None:
    buyer, movie = watched
    saved = await client.put(
        f"/movies/{movie}/progress", json={"position_seconds": 1.5}, headers=buyer.headers
    )
    assert saved.status_code == 204, saved.text
    detail = (await client.get(f"/movies/{movie}", headers=buyer.headers)).json()
    assert detail["resume_position_seconds"] == 1.5
    assert (await client.get(f"/movies/{movie}")).json()["resume_position_seconds"] is None
    playback = (await client.get(f"/movies/{movie}/playback", headers=buyer.headers)).json()
    assert playback["resume_position_seconds"] == 1.5


async def test_saving_is_idempotent_and_keeps_one_row(client, watched) -> None:
    buyer, movie = watched
    for position in (1.0, 1.0, 2.0, 2.0):
        answer = await client.put(
            f"/movies/{movie}/progress", json={"position_seconds": position}, headers=buyer.headers
        )
        assert answer.status_code == 204
    rows = await _rows(buyer.id)
    assert len(rows) == 1
    assert rows[0]["position_seconds"] == 2.0
    assert rows[0]["started_at"] <= rows[0]["updated_at"]


@pytest.mark.parametrize("position", [-1, 3.5, 1e9, "NaN", "1s", None])
async def test_a_position_outside_the_duration_is_422(client, watched, position) -> None:
    buyer, movie = watched
    answer = await client.put(
        f"/movies/{movie}/progress", json={"position_seconds": position}, headers=buyer.headers
    )
    assert answer.status_code == 422
    assert await _rows(buyer.id) == []


async def test_the_end_of_the_feature_is_a_valid_position(client, watched) -> None:
    buyer, movie = watched
    duration = (await client.get(f"/movies/{movie}/playback", headers=buyer.headers)).json()[
        "duration_seconds"
    ]
    answer = await client.put(
        f"/movies/{movie}/progress", json={"position_seconds": duration}, headers=buyer.headers
    )
    assert answer.status_code == 204
    answer = await client.put(
        f"/movies/{movie}/progress", json={"position_seconds": duration + 0.01}, headers=buyer.headers
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_position"


async def test_only_who_may_watch_saves_progress(client, make_user, watched) -> None:
    _buyer, movie = watched
    stranger = await make_user()
    answer = await client.put(
        f"/movies/{movie}/progress", json={"position_seconds": 1}, headers=stranger.headers
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "not_entitled"
    assert await _rows(stranger.id) == []
    assert (await client.put(f"/movies/{movie}/progress", json={"position_seconds": 1})).status_code == 401
    moderator = await make_user(group=GroupName.MODERATOR)
    answer = await client.put(
        f"/movies/{movie}/progress", json={"position_seconds": 1}, headers=moderator.headers
    )
    assert answer.status_code == 204
    unknown = await client.put(
        "/movies/999999/progress", json={"position_seconds": 1}, headers=moderator.headers
    )
    assert unknown.status_code == 404


async def test_progress_without_a_feature_is_no_media(client, make_user) -> None:
    buyer = await make_user()
    movie = await make_movie()
    await buy(buyer.id, movie)
    answer = await client.put(
        f"/movies/{movie}/progress", json={"position_seconds": 0}, headers=buyer.headers
    )
    assert answer.status_code == 404
    assert answer.json()["code"] == "no_media"


async def test_continue_watching_and_history(client, make_user, samples, attach) -> None:
    buyer = await make_user()
    movies = [await make_movie(name=f"Film {n}", year=2000 + n) for n in range(4)]
    for movie in movies:
        await attach(movie, MediaKind.FEATURE, samples.webm)
        await buy(buyer.id, movie)
    await attach(movies[1], MediaKind.POSTER, samples.png)
    # Film 0 started, Film 1 started later, Film 2 finished (>= 95 %), Film 3 never played.
    for movie, position in ((movies[0], 1.0), (movies[1], 2.0), (movies[2], 2.9)):
        answer = await client.put(
            f"/movies/{movie}/progress", json={"position_seconds": position}, headers=buyer.headers
        )
        assert answer.status_code == 204

    page = (await client.get("/me/continue-watching", headers=buyer.headers)).json()
    assert [item["movie_id"] for item in page["items"]] == [movies[1], movies[0]]
    assert page["total"] == 2
    first = page["items"][0]
    assert first["name"] == "Film 1"
    assert first["position_seconds"] == 2.0
    assert first["finished"] is False
    assert first["poster_url"].startswith("http://cinema.test/media/posters/")
    assert page["items"][1]["poster_url"] is None

    paged = (await client.get("/me/continue-watching?per_page=1&page=2", headers=buyer.headers)).json()
    assert [item["movie_id"] for item in paged["items"]] == [movies[0]]
    assert paged["pages"] == 2

    history = (await client.get("/me/history", headers=buyer.headers)).json()
    assert [item["movie_id"] for item in history["items"]] == [movies[2], movies[1], movies[0]]
    assert [item["finished"] for item in history["items"]] == [True, False, False]

    cleared = await client.delete(f"/movies/{movies[1]}/progress", headers=buyer.headers)
    assert cleared.status_code == 204
    page = (await client.get("/me/continue-watching", headers=buyer.headers)).json()
    assert [item["movie_id"] for item in page["items"]] == [movies[0]]
    assert (await client.get(f"/movies/{movies[1]}", headers=buyer.headers)).json()[
        "resume_position_seconds"
    ] is None
    history = (await client.get("/me/history", headers=buyer.headers)).json()
    assert history["total"] == 3  # the history keeps what was watched


async def test_a_refunded_movie_leaves_continue_watching(client, make_user, samples, attach) -> None:
    """Continue watching offers only what the caller may watch now; the history keeps the record."""
    from tests.media.test_playback import _sandbox_purchase

    buyer = await make_user()
    admin = await make_user(group=GroupName.ADMIN)
    kept, refunded = await make_movie("Kept", year=2001), await make_movie("Refunded", year=2002)
    payments = {}
    for movie in (kept, refunded):
        await attach(movie, MediaKind.FEATURE, samples.webm)
        payments[movie] = await _sandbox_purchase(client, buyer, movie)
        answer = await client.put(
            f"/movies/{movie}/progress", json={"position_seconds": 1.5}, headers=buyer.headers
        )
        assert answer.status_code == 204
    page = (await client.get("/me/continue-watching", headers=buyer.headers)).json()
    assert [item["movie_id"] for item in page["items"]] == [refunded, kept]

    done = await client.post(f"/payments/{payments[refunded]}/refund", headers=admin.headers)
    assert done.status_code == 200, done.text
    page = (await client.get("/me/continue-watching", headers=buyer.headers)).json()
    assert [item["movie_id"] for item in page["items"]] == [kept]
    assert page["total"] == 1
    assert (await client.get(f"/movies/{refunded}/playback", headers=buyer.headers)).status_code == 403
    history = (await client.get("/me/history", headers=buyer.headers)).json()
    assert [item["movie_id"] for item in history["items"]] == [refunded, kept]

    # Staff may watch everything: their list is not filtered by ownership.
    moderator = await make_user(group=GroupName.MODERATOR)
    await client.put(
        f"/movies/{refunded}/progress", json={"position_seconds": 1.0}, headers=moderator.headers
    )
    page = (await client.get("/me/continue-watching", headers=moderator.headers)).json()
    assert [item["movie_id"] for item in page["items"]] == [refunded]


async def test_one_users_progress_is_not_anothers(client, make_user, watched) -> None:
    buyer, movie = watched
    other = await make_user()
    await buy(other.id, movie)
    await client.put(f"/movies/{movie}/progress", json={"position_seconds": 2}, headers=buyer.headers)

    assert (await client.get("/me/continue-watching", headers=other.headers)).json()["items"] == []
    assert (await client.get("/me/history", headers=other.headers)).json()["total"] == 0
    assert (await client.get(f"/movies/{movie}", headers=other.headers)).json()[
        "resume_position_seconds"
    ] is None
    # Clearing one's own progress leaves the other viewer's alone.
    assert (await client.delete(f"/movies/{movie}/progress", headers=other.headers)).status_code == 204
    rows = await _rows(buyer.id)
    assert [row["position_seconds"] for row in rows] == [2.0]
    assert (await client.get("/me/continue-watching")).status_code == 401


async def test_saving_costs_one_write(client, watched, monkeypatch) -> None:
    """Players send the position every few seconds: one read and one upsert, nothing more."""
    from cinema.media import progress

    buyer, movie = watched
    statements: list[str] = []
    real_fetch = progress.fetch

    async def counting(template: str, *args):
        statements.append(template.split(None, 1)[0].upper())
        return await real_fetch(template, *args)

    monkeypatch.setattr(progress, "fetch", counting)
    for _ in range(3):
        answer = await client.put(
            f"/movies/{movie}/progress", json={"position_seconds": 2}, headers=buyer.headers
        )
        assert answer.status_code == 204
    assert statements == ["SELECT", "INSERT"] * 3
