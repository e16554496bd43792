"""Deleting a movie deletes its stored media, from every door; the sweep removes what nothing names.

Doors: `DELETE /movies/{id}`, the admin's row delete and its "Delete movie"
action (the CLI's `cinema movies delete` is in test_cli.py). Each leaves no
object behind, locally and on S3 (moto), and a refused delete keeps them all.
The sweep (`cinema movies media cleanup`, the scheduler) removes objects no
asset row names once older than `MEDIA_UPLOAD_TTL_SECONDS`.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from cinema.accounts.tables import GroupName
from cinema.catalog.tables import Movie
from cinema.clock import utcnow
from cinema.config import get_settings
from cinema.media import assets, storage
from cinema.media.tables import MediaAsset, MediaKind
from tests.media.conftest import MotoS3, buy, make_movie
from tests.ops.admin_helpers import csrf, open_admin_session


def stored_files() -> list[Path]:
    """Every file under the media folders (scratch files included), posters' public folder too."""
    settings = get_settings()
    found: list[Path] = []
    for root in (settings.media_dir / "posters", settings.private_media_dir):
        if root.exists():
            found += [p for p in root.rglob("*") if p.is_file()]
    return sorted(found)


def _later() -> object:
    return utcnow() + timedelta(seconds=get_settings().media_upload_ttl_seconds + 1)


@pytest.fixture
async def moderator(make_user):
    return await make_user(group=GroupName.MODERATOR)


async def _movie_with_media(client, moderator, samples, attach) -> int:
    """A movie with a ready feature, trailer and poster, and an upload in progress holding bytes."""
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, samples.webm)
    await attach(movie, MediaKind.TRAILER, samples.mp4)
    await attach(movie, MediaKind.POSTER, samples.png)
    opened = await client.post(
        f"/movies/{movie}/media/uploads",
        json={"kind": "trailer", "size_bytes": 100},
        headers=moderator.headers,
    )
    assert opened.status_code == 201, opened.text
    url = opened.json()["urls"][0]
    if url.startswith("http://cinema.test"):  # local: the app's signed URL
        assert (await client.put(httpx.URL(url).raw_path.decode(), content=b"p" * 100)).status_code == 200
    else:  # S3: a presigned part URL
        async with httpx.AsyncClient() as http:
            assert (await http.put(url, content=b"p" * 100)).status_code == 200
    return movie


async def test_deleting_a_movie_through_the_api_removes_its_files(
    client, moderator, make_user, samples, attach
) -> None:
    movie = await _movie_with_media(client, moderator, samples, attach)
    other = await make_movie("Alien", year=1979)
    await attach(other, MediaKind.POSTER, samples.jpeg)
    kept = [p for p in stored_files() if f"/{other}/" in p.as_posix()]
    assert len(kept) == 1
    assert len(stored_files()) == 5

    # Refused (the movie was bought): nothing is deleted, rows or files.
    buyer = await make_user()
    await buy(buyer.id, other)
    refused = await client.delete(f"/movies/{other}", headers=moderator.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "movie_purchased"
    assert len(stored_files()) == 5

    done = await client.delete(f"/movies/{movie}", headers=moderator.headers)
    assert done.status_code == 204, done.text
    assert stored_files() == kept
    assert await MediaAsset.select(MediaAsset.movie).run() == [{"movie_id": other}]
    assert await assets.sweep_orphans(_later()) == 0  # nothing was left for the safety net


async def test_the_admin_row_delete_and_action_remove_the_files(client, moderator, samples, attach) -> None:
    first = await _movie_with_media(client, moderator, samples, attach)
    second = await make_movie("Alien", year=1979)
    await attach(second, MediaKind.TRAILER, samples.webm_other)
    assert len(stored_files()) == 5
    await open_admin_session(client, moderator.id)

    row = await client.delete(f"/admin/api/tables/movies/{first}/", headers=csrf(client))
    assert row.status_code in (200, 204), row.text
    assert len(stored_files()) == 1

    action = await client.post(
        "/admin/api/forms/delete-movie/",
        json={"movie_id": second, "remove_from_carts": False},
        headers=csrf(client),
    )
    assert action.status_code == 200, action.text
    assert action.json()["custom_form_success"] == f"Movie #{second} deleted."
    assert stored_files() == []
    assert await Movie.count().run() == 0
    assert await MediaAsset.count().run() == 0


async def test_the_sweep_removes_old_objects_nothing_names(client, moderator, samples, attach) -> None:
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, samples.webm)
    await attach(movie, MediaKind.POSTER, samples.png)
    named = stored_files()
    store = storage.get_media_store()
    assert isinstance(store, storage.LocalMediaStore)
    # What a failed deletion or a crash leaves: an object no row names, a half-written copy,
    # an upload body never moved into place, a scratch file of a check.
    leftovers = [
        store.path(storage.new_key(movie, True, "webm")),
        store.path(storage.new_key(movie, False, "png")),
        store.private_root / "videos" / str(movie) / ".0123.webm.tmp",
        store.private_root / "uploads" / f".{'a' * 32}.0123.part",
        store.private_root / "tmp" / "tmpab12cd",
    ]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left over")
    assert len(stored_files()) == len(named) + len(leftovers)

    assert await assets.sweep_orphans() == 0  # young: perhaps a write whose row is not committed yet
    assert await assets.sweep_orphans(_later()) == len(leftovers)
    assert stored_files() == named
    assert (await client.get(f"/movies/{movie}")).json()["poster_url"] is not None

    # An upload in progress is named by its row: kept, however old.
    opened = await client.post(
        f"/movies/{movie}/media/uploads",
        json={"kind": "trailer", "size_bytes": 10},
        headers=moderator.headers,
    )
    await client.put(httpx.URL(opened.json()["urls"][0]).raw_path.decode(), content=b"u" * 10)
    assert await assets.sweep_orphans(_later()) == 0
    assert len(stored_files()) == len(named) + 1


async def test_on_s3_deleting_a_movie_leaves_no_object_and_no_part(
    moto_s3: MotoS3, client, moderator, samples, attach
) -> None:
    movie = await _movie_with_media(client, moderator, samples, attach)
    assert len(await moto_s3.keys()) == 3
    assert len(await _pending_uploads(moto_s3)) == 1

    done = await client.delete(f"/movies/{movie}", headers=moderator.headers)
    assert done.status_code == 204, done.text
    assert await moto_s3.keys() == []
    assert await _pending_uploads(moto_s3) == []


async def test_on_s3_the_sweep_removes_orphans_and_stray_parts(
    moto_s3: MotoS3, client, moderator, samples, attach
) -> None:
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, samples.webm)
    named = await moto_s3.keys()
    orphan = storage.new_key(movie, False, "png")
    stray = storage.new_key(movie, True, "mp4")
    async with moto_s3.client() as s3:
        await s3.put_object(Bucket=moto_s3.bucket, Key=orphan, Body=b"left over")
        await s3.put_object(Bucket=moto_s3.bucket, Key="avatars/1/" + "b" * 32 + ".png", Body=b"not media")
    assert await assets.sweep_orphans() == 0  # young
    # moto reports every multipart upload as initiated in 2010: their age rule is not testable here.
    async with moto_s3.client() as s3:
        created = await s3.create_multipart_upload(Bucket=moto_s3.bucket, Key=stray)
        await s3.upload_part(
            Bucket=moto_s3.bucket, Key=stray, UploadId=created["UploadId"], PartNumber=1, Body=os.urandom(10)
        )
    # An upload in progress (its multipart upload is named by its row) is kept.
    await assets.start_upload(movie, MediaKind.TRAILER, 20_000_000, uploaded_by=moderator.id)
    assert len(await _pending_uploads(moto_s3)) == 2

    assert await assets.sweep_orphans(_later()) == 2
    assert await moto_s3.keys() == sorted([*named, "avatars/1/" + "b" * 32 + ".png"])
    [pending] = await _pending_uploads(moto_s3)
    assert pending.startswith("uploads/")


async def _pending_uploads(s3: MotoS3) -> list[str]:
    async with s3.client() as client:
        listing = await client.list_multipart_uploads(Bucket=s3.bucket)
        return [item["Key"] for item in listing.get("Uploads", [])]
