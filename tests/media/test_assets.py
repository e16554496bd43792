"""Media assets through the API: direct uploads, two-step uploads, replacing, removing, posters.

Every bad input is refused with its code and leaves nothing behind: no row
(other than a `failed` upload's record), no stored bytes.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from cinema.accounts.actor import GroupName
from cinema.clock import utcnow
from cinema.config import get_settings
from cinema.media import assets
from cinema.media.tables import MediaAsset
from tests.media.conftest import make_movie


def _stored_files() -> list[Path]:
    settings = get_settings()
    found: list[Path] = []
    for root in (settings.media_dir / "posters", settings.private_media_dir):
        if root.exists():
            found += [p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "tmp"]
    return sorted(found)


@pytest.fixture
async def moderator(make_user):
    return await make_user(group=GroupName.MODERATOR)


async def _upload(client, movie: int, kind: str, path: Path, headers: dict) -> httpx.Response:
    with path.open("rb") as handle:
        return await client.post(
            f"/movies/{movie}/media",
            params={"kind": kind},
            files={"file": ("whatever.bin", handle, "application/octet-stream")},
            headers=headers,
        )


async def test_a_moderator_uploads_a_poster_and_the_catalog_shows_it(client, moderator, samples) -> None:
    movie = await make_movie()
    before = (await client.get("/movies")).json()["items"][0]
    assert before["poster_url"] is None

    answer = await _upload(client, movie, "poster", samples.png, moderator.headers)
    assert answer.status_code == 201, answer.text
    asset = answer.json()["asset"]
    assert asset["kind"] == "poster"
    assert asset["status"] == "ready"
    assert asset["content_type"] == "image/png"
    assert (asset["width"], asset["height"]) == (200, 300)
    assert asset["uploaded_by"] == moderator.id
    assert answer.json()["unchanged"] is False

    item = (await client.get("/movies")).json()["items"][0]
    detail = (await client.get(f"/movies/{movie}")).json()
    assert item["poster_url"] == detail["poster_url"]
    assert item["poster_url"].startswith("http://cinema.test/media/posters/")
    image = await client.get(httpx.URL(item["poster_url"]).raw_path.decode())
    assert image.status_code == 200
    assert image.content == samples.png.read_bytes()


async def test_the_same_bytes_again_change_nothing(client, moderator, samples) -> None:
    movie = await make_movie()
    first = await _upload(client, movie, "trailer", samples.mp4, moderator.headers)
    assert first.status_code == 201
    second = await _upload(client, movie, "trailer", samples.mp4, moderator.headers)
    assert second.status_code == 201
    assert second.json()["unchanged"] is True
    assert second.json()["asset"]["id"] == first.json()["asset"]["id"]
    assert len(_stored_files()) == 1


async def test_a_new_file_replaces_the_ready_one(client, moderator, samples) -> None:
    movie = await make_movie()
    first = (await _upload(client, movie, "feature", samples.webm, moderator.headers)).json()["asset"]
    files = _stored_files()
    second = (await _upload(client, movie, "feature", samples.webm_other, moderator.headers)).json()["asset"]
    assert second["sha256"] != first["sha256"]
    assert second["duration_seconds"] == pytest.approx(2.0, abs=0.1)
    listed = (await client.get(f"/movies/{movie}/media", headers=moderator.headers)).json()
    assert [(a["id"], a["kind"], a["status"]) for a in listed] == [(second["id"], "feature", "ready")]
    now = _stored_files()
    assert len(now) == 1
    assert now != files


@pytest.mark.parametrize(
    ("kind", "sample"),
    [
        ("feature", "text"),  # not media at all, whatever its name
        ("feature", "fake_webm"),  # a WebM header, then garbage
        ("feature", "png"),  # an image is not a video
        ("poster", "webm"),  # a video is not a poster
        ("trailer", "jpeg"),
    ],
)
async def test_wrong_bytes_are_415_and_nothing_is_stored(client, moderator, samples, kind, sample) -> None:
    movie = await make_movie()
    answer = await _upload(client, movie, kind, getattr(samples, sample), moderator.headers)
    assert answer.status_code == 415, answer.text
    assert answer.json()["code"] == "unsupported_media_type"
    assert await MediaAsset.select().run() == []
    assert _stored_files() == []


@pytest.mark.parametrize("sample", ["truncated_webm", "truncated_mp4"])
async def test_a_truncated_video_is_refused_and_not_stored(client, moderator, samples, sample) -> None:
    movie = await make_movie()
    answer = await _upload(client, movie, "feature", getattr(samples, sample), moderator.headers)
    assert answer.status_code == 415, answer.text
    assert answer.json()["code"] == "truncated_media"
    assert answer.json()["detail"].startswith("The video is truncated (an incomplete upload?):")
    assert await MediaAsset.select().run() == []
    assert _stored_files() == []

    # The same through a two-step upload: marked failed with the reason, the bytes deleted.
    done = await _two_step(client, movie, "trailer", getattr(samples, sample).read_bytes(), moderator.headers)
    assert done.status_code == 415
    assert done.json()["code"] == "truncated_media"
    [row] = await MediaAsset.select().run()
    assert row["status"] == "failed"
    assert row["error"].startswith("The video is truncated")
    assert _stored_files() == []
    assert (await client.get(f"/movies/{movie}/trailer")).json()["code"] == "no_media"


async def test_a_silent_video_is_accepted(client, moderator, samples) -> None:
    movie = await make_movie()
    answer = await _upload(client, movie, "trailer", samples.silent_webm, moderator.headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["asset"]["codecs"] == "vp9"


async def test_bad_requests(client, moderator, make_user, samples) -> None:
    movie = await make_movie()
    wrong_kind = await _upload(client, movie, "soundtrack", samples.webm, moderator.headers)
    assert wrong_kind.status_code == 422
    user = await make_user()
    assert (await _upload(client, movie, "poster", samples.png, user.headers)).status_code == 403
    assert (await client.get(f"/movies/{movie}/media", headers=user.headers)).status_code == 403
    assert (await _upload(client, 999999, "poster", samples.png, moderator.headers)).status_code == 404
    not_multipart = await client.post(
        f"/movies/{movie}/media", params={"kind": "poster"}, content=b"abc", headers=moderator.headers
    )
    assert not_multipart.status_code == 415
    no_file = await client.post(
        f"/movies/{movie}/media",
        params={"kind": "poster"},
        files={"other": ("a", b"x")},
        headers=moderator.headers,
    )
    assert no_file.status_code == 422
    assert await MediaAsset.select().run() == []


async def test_over_the_cap_is_413_before_the_body_is_read(client, moderator, samples, monkeypatch) -> None:
    monkeypatch.setenv("MEDIA_MAX_POSTER_BYTES", "500")
    get_settings.cache_clear()
    movie = await make_movie()
    read: list[int] = []

    async def body():
        read.append(1)
        yield b"x" * 1000

    declared = await client.post(
        f"/movies/{movie}/media",
        params={"kind": "poster"},
        content=body(),
        headers={
            **moderator.headers,
            "Content-Type": "multipart/form-data; boundary=xyz",
            "Content-Length": str(200_000),
        },
    )
    assert declared.status_code == 413
    assert declared.json()["code"] == "payload_too_large"
    assert read == []  # refused from the header alone
    # Within the declared length but over the cap once received (the poster is ~900 bytes):
    answer = await _upload(client, movie, "poster", samples.jpeg, moderator.headers)
    assert answer.status_code == 413
    assert await MediaAsset.select().run() == []
    assert _stored_files() == []
    announced = await client.post(
        f"/movies/{movie}/media/uploads",
        json={"kind": "poster", "size_bytes": 501},
        headers=moderator.headers,
    )
    assert announced.status_code == 413
    assert await MediaAsset.select().run() == []


async def _two_step(client, movie: int, kind: str, data: bytes, headers: dict) -> httpx.Response:
    opened = await client.post(
        f"/movies/{movie}/media/uploads", json={"kind": kind, "size_bytes": len(data)}, headers=headers
    )
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert len(body["urls"]) == 1
    put = await client.put(httpx.URL(body["urls"][0]).raw_path.decode(), content=data)
    assert put.status_code == 200, put.text
    assert put.json() == {"received_bytes": len(data)}
    return await client.post(f"/movies/{movie}/media/uploads/{body['upload_id']}/complete", headers=headers)


async def test_a_two_step_upload_becomes_the_asset(client, moderator, samples) -> None:
    movie = await make_movie()
    done = await _two_step(client, movie, "feature", samples.webm.read_bytes(), moderator.headers)
    assert done.status_code == 200, done.text
    asset = done.json()
    assert asset["status"] == "ready"
    assert asset["content_type"] == "video/webm"
    again = await client.post(
        f"/movies/{movie}/media/uploads/{asset['id']}/complete", headers=moderator.headers
    )
    assert again.status_code == 409
    assert again.json()["code"] == "upload_not_in_progress"
    files = _stored_files()
    assert len(files) == 1
    assert files[0].read_bytes() == samples.webm.read_bytes()
    assert "uploads" not in files[0].parts


async def test_a_two_step_upload_of_wrong_bytes_fails_and_is_deleted(client, moderator, samples) -> None:
    movie = await make_movie()
    done = await _two_step(client, movie, "poster", samples.text.read_bytes(), moderator.headers)
    assert done.status_code == 415
    assert done.json()["code"] == "unsupported_media_type"
    [row] = await MediaAsset.select().run()
    assert row["status"] == "failed"
    assert "JPEG, PNG or WebP" in row["error"]
    assert _stored_files() == []
    assert (await client.get(f"/movies/{movie}")).json()["poster_url"] is None


async def test_a_signed_upload_url_takes_no_more_than_announced_and_no_tampering(
    client, moderator, samples
) -> None:
    movie = await make_movie()
    opened = (
        await client.post(
            f"/movies/{movie}/media/uploads",
            json={"kind": "trailer", "size_bytes": 100},
            headers=moderator.headers,
        )
    ).json()
    url = httpx.URL(opened["urls"][0])
    too_much = await client.put(url.raw_path.decode(), content=b"x" * 101)
    assert too_much.status_code == 413
    bigger = url.copy_merge_params({"max_bytes": "1000000"})
    assert (await client.put(bigger.raw_path.decode(), content=b"x" * 101)).status_code == 403
    other = str(url.raw_path.decode()).replace("/uploads/", "/uploads/0")
    assert (await client.put(other, content=b"x")).status_code in (403, 422)
    assert _stored_files() == []
    early = await client.post(
        f"/movies/{movie}/media/uploads/{opened['upload_id']}/complete", headers=moderator.headers
    )
    assert early.status_code == 415  # nothing arrived
    wrong_movie = await client.post(
        f"/movies/{movie + 1}/media/uploads/{opened['upload_id']}/complete", headers=moderator.headers
    )
    assert wrong_movie.status_code == 404


async def _open(client, movie: int, kind: str, size: int, headers: dict) -> tuple[int, str]:
    opened = await client.post(
        f"/movies/{movie}/media/uploads", json={"kind": kind, "size_bytes": size}, headers=headers
    )
    assert opened.status_code == 201, opened.text
    return int(opened.json()["upload_id"]), httpx.URL(opened.json()["urls"][0]).raw_path.decode()


async def test_a_finished_upload_url_takes_no_more_bytes(client, moderator, samples) -> None:
    movie = await make_movie()
    data = samples.webm.read_bytes()

    # Completed: the URL is still signed and unexpired, but the upload is over.
    upload_id, url = await _open(client, movie, "trailer", len(data), moderator.headers)
    assert (await client.put(url, content=data)).status_code == 200
    done = await client.post(f"/movies/{movie}/media/uploads/{upload_id}/complete", headers=moderator.headers)
    assert done.status_code == 200, done.text
    stored = _stored_files()
    assert len(stored) == 1
    again = await client.put(url, content=data)
    assert again.status_code == 409
    assert again.json() == {
        "detail": "This upload is ready: it takes no more bytes; start a new one.",
        "code": "upload_not_in_progress",
    }
    assert _stored_files() == stored

    # Refused: the failed upload's URL takes nothing either.
    upload_id, url = await _open(client, movie, "poster", 50, moderator.headers)
    assert (await client.put(url, content=b"n" * 50)).status_code == 200
    refused = await client.post(
        f"/movies/{movie}/media/uploads/{upload_id}/complete", headers=moderator.headers
    )
    assert refused.status_code == 415
    after_failure = await client.put(url, content=b"n" * 50)
    assert after_failure.status_code == 409
    assert after_failure.json()["code"] == "upload_not_in_progress"
    assert "failed" in after_failure.json()["detail"]
    assert _stored_files() == stored

    # Cleaned up (no row any more): 404, nothing written.
    upload_id, url = await _open(client, movie, "trailer", 10, moderator.headers)
    later = utcnow() + timedelta(seconds=get_settings().media_upload_ttl_seconds + 1)
    assert await assets.cleanup_abandoned(later) == 1
    gone = await client.put(url, content=b"z" * 10)
    assert gone.status_code == 404
    assert gone.json()["code"] == "upload_not_found"
    assert _stored_files() == stored
    assert [
        r["status"] for r in await MediaAsset.select(MediaAsset.status).order_by(MediaAsset.id).run()
    ] == [
        "ready",
        "failed",
    ]


async def test_an_upload_completed_while_its_body_arrives_keeps_no_bytes(client, moderator, samples) -> None:
    movie = await make_movie()
    upload_id, url = await _open(client, movie, "trailer", 3000, moderator.headers)
    ended = []

    async def body():
        yield b"a" * 1000
        # The moderator completes (nothing arrived yet: refused) while the PUT is still sending.
        ended.append(
            await client.post(
                f"/movies/{movie}/media/uploads/{upload_id}/complete", headers=moderator.headers
            )
        )
        yield b"b" * 1000

    answer = await client.put(url, content=body())
    assert ended[0].status_code == 415
    assert answer.status_code == 409
    assert answer.json()["code"] == "upload_not_in_progress"
    assert _stored_files() == []


async def test_abandoned_uploads_are_cleaned_up(client, moderator, samples) -> None:
    movie = await make_movie()
    opened = (
        await client.post(
            f"/movies/{movie}/media/uploads",
            json={"kind": "trailer", "size_bytes": 5000},
            headers=moderator.headers,
        )
    ).json()
    await client.put(httpx.URL(opened["urls"][0]).raw_path.decode(), content=b"y" * 5000)
    assert len(_stored_files()) == 1
    assert await assets.cleanup_abandoned() == 0  # not expired yet
    later = utcnow() + timedelta(seconds=get_settings().media_upload_ttl_seconds + 1)
    assert await assets.cleanup_abandoned(later) == 1
    assert await MediaAsset.select().run() == []
    assert _stored_files() == []


async def test_removing_needs_a_moderator_and_a_known_kind(client, moderator, make_user, samples) -> None:
    movie = await make_movie()
    await _upload(client, movie, "poster", samples.png, moderator.headers)
    user = await make_user()
    assert (await client.delete(f"/movies/{movie}/media/poster", headers=user.headers)).status_code == 403
    assert (await client.delete(f"/movies/{movie}/media/cover", headers=moderator.headers)).status_code == 422
    assert (
        await client.delete(f"/movies/{movie}/media/poster", headers=moderator.headers)
    ).status_code == 204
    assert (await client.get(f"/movies/{movie}")).json()["poster_url"] is None
    assert _stored_files() == []
