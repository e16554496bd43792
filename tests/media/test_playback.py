"""Playback and trailers over HTTP, and the local signed stream (docs/media.md, "Playback").

Real files (made with PyAV), the real app in-process, and both engines.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from cinema.accounts.actor import GroupName
from cinema.clock import utcnow
from cinema.media import assets, signing
from cinema.media.tables import MediaKind
from tests.media.conftest import buy, make_movie


def _path(url: str) -> str:
    """The path and query of an absolute URL (the in-process client has its own host)."""
    parsed = httpx.URL(url)
    return parsed.raw_path.decode()


async def test_a_buyer_gets_a_url_that_plays_the_feature(client, make_user, samples, attach) -> None:
    buyer = await make_user()
    movie = await make_movie()
    asset = await attach(movie, MediaKind.FEATURE, samples.webm)
    await buy(buyer.id, movie)

    answer = await client.get(f"/movies/{movie}/playback", headers=buyer.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["content_type"] == "video/webm"
    assert body["duration_seconds"] == pytest.approx(3.0, abs=0.1)
    assert body["duration_seconds"] == asset.duration_seconds
    assert body["resume_position_seconds"] is None
    assert body["url"].startswith("http://cinema.test/media-stream/videos/")
    assert f"user={buyer.id}" in body["url"]
    ttl = (httpx.URL(body["url"]).params["expires"], body["expires_at"])
    assert int(ttl[0]) - utcnow().timestamp() == pytest.approx(3600, abs=5)

    whole = await client.get(_path(body["url"]))
    assert whole.status_code == 200
    assert whole.content == samples.webm.read_bytes()
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["cache-control"] == "private"
    assert whole.headers["content-type"] == "video/webm"
    assert whole.headers["etag"]


async def test_who_may_watch(client, make_user, samples, attach) -> None:
    stranger = await make_user()
    moderator = await make_user(group=GroupName.MODERATOR)
    admin = await make_user(group=GroupName.ADMIN)
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, samples.webm)

    refused = await client.get(f"/movies/{movie}/playback", headers=stranger.headers)
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_entitled"
    # Authentication is answered as on every route (the token is checked in the playback statement).
    anonymous = await client.get(f"/movies/{movie}/playback")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forged = await client.get(f"/movies/{movie}/playback", headers={"Authorization": "Bearer not.a.token"})
    assert (forged.status_code, forged.json()["code"]) == (401, "invalid_token")
    basic = await client.get(f"/movies/{movie}/playback", headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401
    logged_out = await make_user()
    await client.post(
        "/accounts/logout", json={"refresh_token": logged_out.refresh_token}, headers=logged_out.headers
    )
    ended = await client.get(f"/movies/{movie}/playback", headers=logged_out.headers)
    assert (ended.status_code, ended.json()["code"]) == (401, "invalid_token")
    for staff in (moderator, admin):
        assert (await client.get(f"/movies/{movie}/playback", headers=staff.headers)).status_code == 200
    unknown = await client.get("/movies/999999/playback", headers=admin.headers)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "movie_not_found"


async def test_a_movie_without_a_feature_is_no_media(client, make_user) -> None:
    buyer = await make_user()
    movie = await make_movie()
    await buy(buyer.id, movie)
    answer = await client.get(f"/movies/{movie}/playback", headers=buyer.headers)
    assert answer.status_code == 404
    assert answer.json()["code"] == "no_media"
    # Not entitled comes first: a stranger learns nothing about the media.
    stranger = await make_user()
    assert (await client.get(f"/movies/{movie}/playback", headers=stranger.headers)).json()[
        "code"
    ] == "not_entitled"


async def test_the_trailer_is_open_to_anyone(client, samples, attach) -> None:
    movie = await make_movie()
    missing = await client.get(f"/movies/{movie}/trailer")
    assert missing.status_code == 404
    assert missing.json()["code"] == "no_media"
    await attach(movie, MediaKind.TRAILER, samples.mp4)
    answer = await client.get(f"/movies/{movie}/trailer")
    assert answer.status_code == 200
    body = answer.json()
    assert body["content_type"] == "video/mp4"
    assert body["resume_position_seconds"] is None
    assert "user=0" in body["url"]
    played = await client.get(_path(body["url"]), headers={"Range": "bytes=0-99"})
    assert played.status_code == 206
    assert played.content == samples.mp4.read_bytes()[:100]


async def _sandbox_purchase(client: Any, user: Any, movie: int) -> int:
    """Buy through the API as a client does (cart, order, sandbox payment); the payment id."""
    added = await client.post("/cart/items", json={"movie_id": movie}, headers=user.headers)
    assert added.status_code == 201, added.text
    order = (await client.post("/orders", headers=user.headers)).json()["order"]["id"]
    payment = (await client.post(f"/payments/{order}", headers=user.headers)).json()["payment_id"]
    paid = await client.post(f"/payments/{payment}/sandbox/succeed", headers=user.headers)
    assert paid.status_code in (200, 204), paid.text
    return int(payment)


async def test_after_a_refund_no_new_url_is_issued(client, make_user, samples, attach) -> None:
    buyer = await make_user()
    admin = await make_user(group=GroupName.ADMIN)
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, samples.webm)
    payment = await _sandbox_purchase(client, buyer, movie)
    assert (await client.get(f"/movies/{movie}/playback", headers=buyer.headers)).status_code == 200

    refunded = await client.post(f"/payments/{payment}/refund", headers=admin.headers)
    assert refunded.status_code == 200, refunded.text
    again = await client.get(f"/movies/{movie}/playback", headers=buyer.headers)
    assert again.status_code == 403
    assert again.json()["code"] == "not_entitled"


async def test_a_deactivated_buyer_gets_no_url(client, make_user, samples, attach) -> None:
    buyer = await make_user()
    admin = await make_user(group=GroupName.ADMIN)
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, samples.webm)
    await buy(buyer.id, movie)
    done = await client.post(f"/accounts/users/{buyer.id}/deactivate", headers=admin.headers)
    assert done.status_code == 200, done.text
    assert (await client.get(f"/movies/{movie}/playback", headers=buyer.headers)).status_code == 401


@pytest.fixture
async def feature_url(client, make_user, samples, attach) -> str:
    buyer = await make_user()
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, samples.webm)
    await buy(buyer.id, movie)
    return str((await client.get(f"/movies/{movie}/playback", headers=buyer.headers)).json()["url"])


async def test_ranges(client, feature_url, samples) -> None:
    data = samples.webm.read_bytes()
    size = len(data)
    url = _path(feature_url)

    first = await client.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.content == data[:100]
    assert first.headers["cache-control"] == "private"

    tail = await client.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206
    assert tail.headers["content-range"] == f"bytes {size - 500}-{size - 1}/{size}"
    assert tail.content == data[-500:]

    middle = await client.get(url, headers={"Range": f"bytes=1000-{size + 5000}"})
    assert middle.status_code == 206
    assert middle.content == data[1000:]

    beyond = await client.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"
    assert beyond.json() == {
        "detail": "The requested range starts past the end of the file.",
        "code": "range_not_satisfiable",
    }

    etag = first.headers["etag"]
    same = await client.get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert same.status_code == 206
    assert same.content == data[10:20]
    stale = await client.get(url, headers={"Range": "bytes=10-19", "If-Range": '"not-the-etag"'})
    assert stale.status_code == 200
    assert stale.content == data

    head = await client.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(size)


async def test_bad_ranges_follow_rfc_9110(client, feature_url, samples) -> None:
    """Unsatisfiable: a JSON 416 with `Content-Range: bytes */size`; invalid: ignored (200, whole file)."""
    data = samples.webm.read_bytes()
    size = len(data)
    url = _path(feature_url)

    for unsatisfiable in (
        f"bytes={size}-",
        f"bytes={size + 10}-{size + 20}",
        "bytes=-0",
        "bytes=" + "9" * 30 + "-",
    ):
        answer = await client.get(url, headers={"Range": unsatisfiable})
        assert answer.status_code == 416, unsatisfiable
        assert answer.headers["content-range"] == f"bytes */{size}"
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["code"] == "range_not_satisfiable"
    head = await client.head(url, headers={"Range": f"bytes={size}-"})
    assert head.status_code == 416
    assert head.headers["content-range"] == f"bytes */{size}"

    for invalid in (
        "bytes=5-2",
        "bytes=abc",
        "bytes=0-1,x",
        "bytes=",
        "bytes=--1",
        "bytes=1-2-3",
        "items=0-9",
        "0-9",
        "bytes=" + ",".join(["0-0"] * 101),
    ):
        answer = await client.get(url, headers={"Range": invalid})
        assert answer.status_code == 200, invalid
        assert "content-range" not in answer.headers
        assert answer.content == data

    # One satisfiable range among unsatisfiable ones is served alone.
    some = await client.get(url, headers={"Range": f"bytes={size}-,0-9"})
    assert some.status_code == 206
    assert some.headers["content-range"] == f"bytes 0-9/{size}"
    assert some.content == data[:10]
    # The unit is case-insensitive; a huge last position means "to the end".
    upper = await client.get(url, headers={"Range": "Bytes=100-" + "9" * 40})
    assert upper.status_code == 206
    assert upper.headers["content-range"] == f"bytes 100-{size - 1}/{size}"
    # Overlapping ranges merge into one.
    merged = await client.get(url, headers={"Range": "bytes=0-9, 5-19"})
    assert merged.status_code == 206
    assert merged.headers["content-range"] == f"bytes 0-19/{size}"
    # Two ranges: multipart/byteranges with both parts.
    both = await client.get(url, headers={"Range": "bytes=0-9,100-109"})
    assert both.status_code == 206
    assert both.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert f"Content-Range: bytes 100-109/{size}".encode() in both.content
    assert data[100:110] in both.content
    # An If-Range that does not match: the whole file, even for an unsatisfiable range.
    stale = await client.get(url, headers={"Range": f"bytes={size}-", "If-Range": '"other"'})
    assert stale.status_code == 200
    assert stale.content == data


async def test_a_tampered_or_expired_url_is_refused(client, feature_url) -> None:
    parsed = httpx.URL(feature_url)
    params = dict(parsed.params)
    key = parsed.path.removeprefix("/media-stream/")
    assert (await client.get(_path(feature_url))).status_code == 200

    def variant(**changes: Any) -> str:
        return str(httpx.URL(parsed.path, params={**params, **changes}))

    signature = params["signature"]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    for url in (
        variant(signature=flipped),
        variant(user=str(int(params["user"]) + 1)),
        variant(expires=str(int(params["expires"]) + 60)),
    ):
        answer = await client.get(url)
        assert answer.status_code == 403, url
        assert answer.json()["code"] == "invalid_signature"

    other_key = key.rsplit("/", 1)[0] + "/" + "0" * 32 + ".webm"
    answer = await client.get(str(httpx.URL(f"/media-stream/{other_key}", params=params)))
    assert answer.status_code == 403

    past = int((utcnow() - timedelta(seconds=5)).timestamp())
    expired = signing.sign("get", key, int(params["user"]), past)
    answer = await client.get(variant(expires=str(past), signature=expired))
    assert answer.status_code == 403
    assert answer.json()["code"] == "invalid_signature"

    # No path reaches a video without a signature: not the stream path, not the public folder.
    assert (await client.get(f"/media-stream/{key}")).status_code == 422
    assert (await client.get(f"/media/{key}")).status_code == 404
    assert (await client.get(f"/media-stream/../../{key}", params=params)).status_code in (403, 404)


async def test_a_removed_feature_stops_its_urls(client, make_user, samples, attach) -> None:
    buyer = await make_user()
    moderator = await make_user(group=GroupName.MODERATOR)
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, samples.webm)
    await buy(buyer.id, movie)
    url = (await client.get(f"/movies/{movie}/playback", headers=buyer.headers)).json()["url"]

    removed = await client.delete(f"/movies/{movie}/media/feature", headers=moderator.headers)
    assert removed.status_code == 204
    gone = await client.get(_path(url))
    assert gone.status_code == 404
    assert gone.json()["code"] == "no_media"
    answer = await client.get(f"/movies/{movie}/playback", headers=buyer.headers)
    assert answer.json()["code"] == "no_media"
    again = await client.delete(f"/movies/{movie}/media/feature", headers=moderator.headers)
    assert again.status_code == 404
    assert again.json()["code"] == "no_media"
    assert await assets.list_assets(movie) == []
