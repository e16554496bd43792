"""Staff upload a poster or a trailer in the admin (cinema/admin/media.py), through its HTTP surface.

The admin's upload goes through the API's own path (`cinema.media.receive`),
so it refuses what the API refuses, with the same codes, and stores nothing
then; it needs an admin session of a MODERATOR or ADMIN and the CSRF token.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cinema.accounts.tables import GroupName
from cinema.admin import MEDIA_UPLOAD_LINK
from cinema.media.tables import MediaAsset
from tests.media.conftest import make_movie
from tests.media.test_removal import stored_files
from tests.ops.admin_helpers import csrf, open_admin_session


async def _upload(
    client: httpx.AsyncClient, movie: object, kind: str, path: Path, *, token: bool = True
) -> httpx.Response:
    with path.open("rb") as handle:
        return await client.post(
            "/admin/api/media-upload/",
            params={"movie_id": str(movie), "kind": kind},
            files={"file": ("anything.bin", handle, "application/octet-stream")},
            headers=csrf(client) if token else {},
        )


@pytest.fixture
async def moderator(make_user):
    return await make_user(group=GroupName.MODERATOR)


async def test_a_moderator_uploads_a_poster_and_a_trailer(client, moderator, samples) -> None:
    movie = await make_movie()
    await open_admin_session(client, moderator.id)
    links = await client.get("/admin/api/links/")
    assert links.json() == {MEDIA_UPLOAD_LINK: "./media-upload/"}
    page = await client.get("/admin/media-upload/")
    assert page.status_code == 200
    assert '<form id="media-upload">' in page.text
    assert (await client.get("/admin/media-upload.js")).headers["content-type"].startswith("text/javascript")

    poster = await _upload(client, movie, "poster", samples.png)
    assert poster.status_code == 201, poster.text
    body = poster.json()
    assert (
        body["detail"] == f"Movie #{movie}'s poster is ready (image/png, {samples.png.stat().st_size} bytes)."
    )
    assert body["unchanged"] is False
    assert body["asset"]["status"] == "ready"
    assert body["asset"]["uploaded_by"] == moderator.id
    assert (body["asset"]["width"], body["asset"]["height"]) == (200, 300)
    detail = (await client.get(f"/movies/{movie}")).json()
    assert detail["poster_url"].startswith("http://cinema.test/media/posters/")

    trailer = await _upload(client, movie, "trailer", samples.webm)
    assert trailer.status_code == 201, trailer.text
    assert trailer.json()["asset"]["codecs"] == "vp9,opus"
    assert (await client.get(f"/movies/{movie}/trailer")).json()["content_type"] == "video/webm"

    again = await _upload(client, movie, "trailer", samples.webm)
    assert again.status_code == 201
    assert again.json()["unchanged"] is True
    assert again.json()["detail"] == f"Movie #{movie} already has this trailer; nothing changed."
    assert len(stored_files()) == 2

    # The admin's table of assets shows both, ready.
    listed = await client.get("/admin/api/tables/media_assets/", params={"__order": "id"})
    assert [(row["kind"], row["status"]) for row in listed.json()["rows"]] == [
        ("poster", "ready"),
        ("trailer", "ready"),
    ]


@pytest.mark.parametrize(
    ("kind", "sample", "status", "code"),
    [
        ("poster", "webm", 415, "unsupported_media_type"),  # a video is not a poster
        ("trailer", "text", 415, "unsupported_media_type"),
        ("trailer", "fake_webm", 415, "unsupported_media_type"),
        ("trailer", "truncated_webm", 415, "truncated_media"),
        ("feature", "webm", 422, "validation_error"),  # features go through the CLI or the two-step API
        ("cover", "png", 422, "validation_error"),
    ],
)
async def test_the_admin_refuses_what_the_api_refuses(
    client, moderator, samples, kind, sample, status, code
) -> None:
    movie = await make_movie()
    await open_admin_session(client, moderator.id)
    answer = await _upload(client, movie, kind, getattr(samples, sample))
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code
    assert isinstance(answer.json()["detail"], str)
    assert await MediaAsset.count().run() == 0
    assert stored_files() == []


async def test_caps_unknown_movies_and_bad_ids(client, moderator, samples, monkeypatch) -> None:
    from cinema.config import get_settings

    movie = await make_movie()
    await open_admin_session(client, moderator.id)
    monkeypatch.setenv("MEDIA_MAX_POSTER_BYTES", "500")
    get_settings.cache_clear()
    try:
        over = await _upload(client, movie, "poster", samples.png)
    finally:
        monkeypatch.delenv("MEDIA_MAX_POSTER_BYTES")
        get_settings.cache_clear()
    assert over.status_code == 413
    assert over.json()["code"] == "payload_too_large"
    unknown = await _upload(client, movie + 1000, "poster", samples.png)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "movie_not_found")
    for bad in ("0", "-1", "x", str(2**40), ""):
        answer = await _upload(client, bad, "poster", samples.png)
        assert (answer.status_code, answer.json()["code"]) == (422, "validation_error"), bad
    no_file = await client.post(
        "/admin/api/media-upload/",
        params={"movie_id": str(movie), "kind": "poster"},
        files={"other": ("x.png", b"x", "image/png")},
        headers=csrf(client),
    )
    assert (no_file.status_code, no_file.json()["code"]) == (422, "validation_error")
    assert await MediaAsset.count().run() == 0
    assert stored_files() == []


async def test_it_needs_a_staff_session_and_the_csrf_token(client, make_user, moderator, samples) -> None:
    movie = await make_movie()
    # Signed out: the admin's authentication refuses before the body is read.
    assert (await client.get("/admin/")).status_code == 200  # the CSRF cookie
    signed_out = await _upload(client, movie, "poster", samples.png)
    assert signed_out.status_code == 401
    # Signed in, but no CSRF token in the header.
    await open_admin_session(client, moderator.id)
    no_token = await _upload(client, movie, "poster", samples.png, token=False)
    assert no_token.status_code == 403
    # A moderator demoted after signing in: refused on the next request.
    from cinema.accounts.tables import User, UserGroup

    user_group = await UserGroup.select(UserGroup.id).where(UserGroup.name == GroupName.USER.value).first()
    await User.update({User.group: user_group["id"]}).where(User.id == moderator.id)
    demoted = await _upload(client, movie, "poster", samples.png)
    assert demoted.status_code == 403
    assert demoted.json()["detail"] == "Only MODERATOR and above may do this."
    assert await MediaAsset.count().run() == 0
    assert stored_files() == []
