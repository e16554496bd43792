"""PUT/DELETE /accounts/me/avatar against the local media folder and a real S3 protocol server (moto)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from cinema.accounts.avatars import MAX_AVATAR_BYTES
from cinema.accounts.tables import UserProfile
from cinema.config import get_settings
from tests.ops.conftest import MotoS3
from tests.ops.images import gif, jpeg, png, webp

AVATAR = "/accounts/me/avatar"


async def stored_key(user_id: int) -> str | None:
    row = await UserProfile.select(UserProfile.avatar).where(UserProfile.user == user_id).first().run()
    return None if row is None else row["avatar"]


def media_path(url: str) -> str:
    """The app-local path of a local-media avatar URL (PUBLIC_BASE_URL is http://cinema.test)."""
    assert url.startswith("http://cinema.test/media/avatars/"), url
    return url.removeprefix("http://cinema.test")


# --- local media folder -------------------------------------------------------------------


async def test_png_upload_is_stored_under_the_users_prefix_and_served(client, make_user) -> None:
    user = await make_user()
    image = png()
    response = await client.put(
        AVATAR, headers=user.headers, files={"file": ("../../etc/passwd.php", image, "text/plain")}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "display_name",
        "first_name",
        "last_name",
        "gender",
        "date_of_birth",
        "info",
        "avatar_url",
    }
    key = await stored_key(user.id)
    assert key is not None
    assert re.fullmatch(rf"avatars/{user.id}/[0-9a-f]{{32}}\.png", key)
    assert body["avatar_url"] == f"http://cinema.test/media/{key}"
    profile = await client.get("/accounts/me/profile", headers=user.headers)
    assert profile.json() == body  # the same profile, same URL, as the accounts API shows it
    assert (get_settings().media_dir / key).read_bytes() == image
    served = await client.get(media_path(body["avatar_url"]))
    assert served.status_code == 200
    assert served.content == image
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(("data", "ext"), [(jpeg(), "jpg"), (webp(), "webp")])
async def test_jpeg_and_webp_are_accepted_by_content(client, make_user, data: bytes, ext: str) -> None:
    user = await make_user()
    response = await client.put(
        AVATAR, headers=user.headers, files={"file": ("photo.png", data, "image/png")}
    )
    assert response.status_code == 200, response.text
    assert (await stored_key(user.id) or "").endswith(f".{ext}")


@pytest.mark.parametrize(
    "data",
    [gif(), b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", b"%PDF-1.4 x", b"x"],
)
async def test_other_content_is_415_whatever_it_claims(client, make_user, data: bytes) -> None:
    user = await make_user()
    response = await client.put(
        AVATAR, headers=user.headers, files={"file": ("avatar.png", data, "image/png")}
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert await stored_key(user.id) is None


async def test_not_multipart_is_415_and_missing_field_is_422(client, make_user) -> None:
    user = await make_user()
    as_json = await client.put(AVATAR, headers=user.headers, json={"file": "x"})
    assert as_json.status_code == 415
    missing = await client.put(AVATAR, headers=user.headers, files={"other": ("a.png", png(), "image/png")})
    assert missing.status_code == 422
    assert missing.json()["code"] == "validation_error"


async def test_anonymous_upload_is_401(client) -> None:
    response = await client.put(AVATAR, files={"file": ("a.png", png(), "image/png")})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_file_over_5_mb_is_413(client, make_user) -> None:
    user = await make_user()
    big = png() + b"\x00" * (MAX_AVATAR_BYTES + 1 - len(png()))
    response = await client.put(AVATAR, headers=user.headers, files={"file": ("a.png", big, "image/png")})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert await stored_key(user.id) is None


async def test_exactly_5_mb_is_accepted(client, make_user) -> None:
    user = await make_user()
    exact = png() + b"\x00" * (MAX_AVATAR_BYTES - len(png()))
    response = await client.put(AVATAR, headers=user.headers, files={"file": ("a.png", exact, "image/png")})
    assert response.status_code == 200, response.text


async def test_declared_length_over_the_cap_is_refused_before_reading(client, make_user) -> None:
    user = await make_user()
    consumed: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(200):
            consumed.append(1)
            yield b"\x00" * 65536

    headers = {
        **user.headers,
        "content-type": "multipart/form-data; boundary=xyz",
        "content-length": str(200 * 65536),
    }
    response = await client.put(AVATAR, headers=headers, content=body())
    assert response.status_code == 413
    assert len(consumed) <= 1  # the app never asked for the body


async def test_streamed_upload_is_cut_off_at_the_cap(client, make_user) -> None:
    """No Content-Length (chunked): the app stops reading just past 5 MB of a 20 MB body."""
    user = await make_user()
    boundary = "cinemaboundary"
    chunk = 64 * 1024
    total_chunks = (20 * 1024 * 1024) // chunk
    sent: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode() + png()
        for _ in range(total_chunks):
            sent.append(chunk)
            yield b"\x00" * chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {**user.headers, "content-type": f"multipart/form-data; boundary={boundary}"}
    response = await client.put(AVATAR, headers=headers, content=body())
    assert response.status_code == 413
    assert sum(sent) <= MAX_AVATAR_BYTES + 2 * 64 * 1024 + chunk
    assert len(sent) < total_chunks


async def test_replacing_deletes_the_old_file_and_delete_clears(client, make_user) -> None:
    user = await make_user()
    media = get_settings().media_dir
    first = await client.put(AVATAR, headers=user.headers, files={"file": ("a.png", png(), "image/png")})
    first_key = await stored_key(user.id)
    assert first.status_code == 200
    assert first_key
    second = await client.put(AVATAR, headers=user.headers, files={"file": ("b.jpg", jpeg(), "image/jpeg")})
    second_key = await stored_key(user.id)
    assert second.status_code == 200
    assert second_key
    assert second_key != first_key
    assert not (media / first_key).exists()
    assert (media / second_key).exists()

    deleted = await client.delete(AVATAR, headers=user.headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert await stored_key(user.id) is None
    assert not (media / second_key).exists()
    assert (await client.get(f"/media/{second_key}")).status_code == 404
    again = await client.delete(AVATAR, headers=user.headers)
    assert again.status_code == 204


async def test_one_user_cannot_touch_another_users_avatar(client, make_user) -> None:
    alice, bob = await make_user(), await make_user()
    await client.put(AVATAR, headers=alice.headers, files={"file": ("a.png", png(), "image/png")})
    alice_key = await stored_key(alice.id)
    await client.put(AVATAR, headers=bob.headers, files={"file": ("b.png", png(rgb=(1, 2, 3)), "image/png")})
    await client.delete(AVATAR, headers=bob.headers)
    assert await stored_key(alice.id) == alice_key
    assert alice_key
    assert (get_settings().media_dir / alice_key).exists()
    assert not (Path(get_settings().media_dir) / "avatars" / str(bob.id)).exists() or not any(
        (Path(get_settings().media_dir) / "avatars" / str(bob.id)).iterdir()
    )


# --- S3 (moto server, real HTTP) ----------------------------------------------------------


async def test_s3_upload_presigned_url_and_delete(client, make_user, moto_s3: MotoS3) -> None:
    user = await make_user()
    image = png(3, 3)
    response = await client.put(AVATAR, headers=user.headers, files={"file": ("me.png", image, "image/png")})
    assert response.status_code == 200, response.text
    key = await stored_key(user.id)
    assert key is not None
    assert re.fullmatch(rf"avatars/{user.id}/[0-9a-f]{{32}}\.png", key)
    assert await moto_s3.keys() == [key]

    url = response.json()["avatar_url"]
    assert url.startswith(f"{moto_s3.endpoint_url}/{moto_s3.bucket}/{key}?")
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=3600" in url
    async with httpx.AsyncClient() as http:
        fetched = await http.get(url)
        assert fetched.status_code == 200
        assert fetched.content == image
        assert fetched.headers["content-type"] == "image/png"

    replaced = await client.put(
        AVATAR, headers=user.headers, files={"file": ("x.webp", webp(), "image/webp")}
    )
    assert replaced.status_code == 200
    new_key = await stored_key(user.id)
    assert new_key
    assert new_key.endswith(".webp")
    assert await moto_s3.keys() == [new_key]

    deleted = await client.delete(AVATAR, headers=user.headers)
    assert deleted.status_code == 204
    assert await moto_s3.keys() == []
    assert await stored_key(user.id) is None


async def test_s3_refused_upload_stores_nothing(client, make_user, moto_s3: MotoS3) -> None:
    user = await make_user()
    response = await client.put(AVATAR, headers=user.headers, files={"file": ("a.png", gif(), "image/png")})
    assert response.status_code == 415
    assert await moto_s3.keys() == []
