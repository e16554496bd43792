"""Media on S3, against moto's S3 server on loopback (real HTTP, the product's aioboto3 code).

Multipart upload (two parts), an aborted upload leaving no parts, presigned
Range GETs, public poster URLs, presigned part uploads, and cleanup of an
abandoned multipart upload.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from cinema.accounts.actor import GroupName
from cinema.clock import utcnow
from cinema.config import get_settings
from cinema.media import assets, storage
from cinema.media.tables import MediaAsset, MediaKind
from tests.media.conftest import MotoS3, buy, make_movie


async def _pending_uploads(s3: MotoS3) -> list[str]:
    async with s3.client() as client:
        listing = await client.list_multipart_uploads(Bucket=s3.bucket)
        return [item["Key"] for item in listing.get("Uploads", [])]


async def test_a_large_file_is_a_multipart_upload(moto_s3: MotoS3, tmp_path: Path) -> None:
    store = storage.get_media_store()
    assert isinstance(store, storage.S3MediaStore)
    data = os.urandom(storage.MIN_PART_BYTES + 1024 * 1024)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    sent: list[int] = []
    key = storage.new_key(1, True, "webm")
    await store.put_file(key, source, "video/webm", progress=sent.append)
    assert sent == [storage.MIN_PART_BYTES, 1024 * 1024]  # two parts
    assert await moto_s3.keys() == [key]
    assert await _pending_uploads(moto_s3) == []
    copy = tmp_path / "back.bin"
    assert await store.fetch_to(key, copy) == len(data)
    assert copy.read_bytes() == data


async def test_a_failed_upload_is_aborted_and_leaves_no_parts(moto_s3: MotoS3, tmp_path: Path) -> None:
    store = storage.get_media_store()
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(storage.MIN_PART_BYTES + 10))

    def broken_link(sent: int) -> None:
        raise ConnectionError("the network went away after the first part")

    with pytest.raises(ConnectionError):
        await store.put_file(storage.new_key(1, True, "mp4"), source, "video/mp4", progress=broken_link)
    assert await _pending_uploads(moto_s3) == []
    assert await moto_s3.keys() == []


async def test_playback_is_a_presigned_url_that_answers_ranges(
    moto_s3: MotoS3, client, make_user, samples, attach
) -> None:
    buyer = await make_user()
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, samples.webm)
    await attach(movie, MediaKind.POSTER, samples.jpeg)
    await buy(buyer.id, movie)
    assert len(await moto_s3.keys()) == 2

    body = (await client.get(f"/movies/{movie}/playback", headers=buyer.headers)).json()
    assert body["url"].startswith(f"{moto_s3.endpoint_url}/{moto_s3.bucket}/videos/{movie}/")
    assert "X-Amz-Signature=" in body["url"]
    assert "X-Amz-Expires=3600" in body["url"]
    data = samples.webm.read_bytes()
    async with httpx.AsyncClient() as http:
        ranged = await http.get(body["url"], headers={"Range": "bytes=0-99"})
        assert ranged.status_code == 206
        assert ranged.headers["content-range"] == f"bytes 0-99/{len(data)}"
        assert ranged.content == data[:100]
        whole = await http.get(body["url"])
        assert whole.content == data
        assert whole.headers["content-type"] == "video/webm"
        poster = (await client.get(f"/movies/{movie}")).json()["poster_url"]
        assert poster.startswith(f"{moto_s3.endpoint_url}/{moto_s3.bucket}/posters/{movie}/")
        assert "Signature" not in poster
        assert (await http.get(poster)).content == samples.jpeg.read_bytes()


async def test_the_url_lifetime_is_the_setting(
    moto_s3: MotoS3, client, make_user, samples, attach, monkeypatch
) -> None:
    monkeypatch.setenv("PLAYBACK_URL_TTL_SECONDS", "120")
    get_settings.cache_clear()
    admin = await make_user(group=GroupName.ADMIN)
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, samples.webm)
    body = (await client.get(f"/movies/{movie}/playback", headers=admin.headers)).json()
    assert "X-Amz-Expires=120" in body["url"]


async def test_a_presigned_multipart_upload_becomes_the_asset(
    moto_s3: MotoS3, client, make_user, samples
) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    movie = await make_movie()
    data = samples.mp4.read_bytes()
    opened = await client.post(
        f"/movies/{movie}/media/uploads",
        json={"kind": "trailer", "size_bytes": len(data)},
        headers=moderator.headers,
    )
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert body["part_size"] == storage.MIN_PART_BYTES
    assert len(body["urls"]) == 1
    assert "uploadId=" in body["urls"][0]
    async with httpx.AsyncClient() as http:
        put = await http.put(body["urls"][0], content=data)
        assert put.status_code == 200, put.text
    done = await client.post(
        f"/movies/{movie}/media/uploads/{body['upload_id']}/complete", headers=moderator.headers
    )
    assert done.status_code == 200, done.text
    assert done.json()["content_type"] == "video/mp4"
    keys = await moto_s3.keys()
    assert len(keys) == 1
    assert keys[0].startswith(f"videos/{movie}/")
    assert await _pending_uploads(moto_s3) == []
    trailer = (await client.get(f"/movies/{movie}/trailer")).json()
    async with httpx.AsyncClient() as http:
        assert (await http.get(trailer["url"])).content == data


async def test_wrong_bytes_uploaded_to_s3_are_deleted(moto_s3: MotoS3, client, make_user, samples) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    movie = await make_movie()
    data = samples.text.read_bytes()
    body = (
        await client.post(
            f"/movies/{movie}/media/uploads",
            json={"kind": "poster", "size_bytes": len(data)},
            headers=moderator.headers,
        )
    ).json()
    async with httpx.AsyncClient() as http:
        assert (await http.put(body["urls"][0], content=data)).status_code == 200
    done = await client.post(
        f"/movies/{movie}/media/uploads/{body['upload_id']}/complete", headers=moderator.headers
    )
    assert done.status_code == 415
    assert await moto_s3.keys() == []
    assert await _pending_uploads(moto_s3) == []
    [row] = await MediaAsset.select(MediaAsset.status).run()
    assert row["status"] == "failed"


async def test_an_abandoned_multipart_upload_is_aborted(moto_s3: MotoS3, make_user) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    movie = await make_movie()
    await assets.start_upload(movie, MediaKind.FEATURE, 20_000_000, uploaded_by=moderator.id)
    assert len(await _pending_uploads(moto_s3)) == 1
    later = utcnow() + timedelta(seconds=get_settings().media_upload_ttl_seconds + 1)
    assert await assets.cleanup_abandoned(later) == 1
    assert await _pending_uploads(moto_s3) == []
    assert await MediaAsset.select().run() == []
