"""Avatar storage and the avatar service (ARCHITECTURE.md: `storage.py`).

Two stores behind one small interface:
- `S3Store` (aioboto3) when `S3_ENDPOINT_URL` is set: objects in `S3_BUCKET`
  (MinIO in compose, moto's server in tests); URLs are presigned GETs valid
  for `PRESIGN_SECONDS`.
- `LocalStore` otherwise: files under `MEDIA_DIR`, served by the app at
  `/media/<key>` (see `cinema.api.app`); URLs are `PUBLIC_BASE_URL/media/<key>`.

Rules (API.md, `PUT /accounts/me/avatar`): JPEG, PNG or WebP recognised from
the bytes (magic numbers through `filetype`; the client's content type and
file name are ignored), at most `MAX_AVATAR_BYTES`; the object key is made by
the server under the user's own prefix, `avatars/<user_id>/<uuid4>.<ext>`.
`user_profiles.avatar` stores the key; `avatar_url(key)` turns it into a URL
(the accounts profile uses it too).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, Self

import filetype  # type: ignore[import-untyped]

from cinema.accounts.queries import profile_out, profile_rows
from cinema.accounts.schemas import ProfileOut
from cinema.accounts.tables import UserProfile
from cinema.config import Settings, get_settings
from cinema.db import transaction
from cinema.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

log = logging.getLogger("cinema.storage")

#: API.md: avatars are at most 5 MB.
MAX_AVATAR_BYTES = 5 * 1024 * 1024
#: Lifetime of a presigned avatar URL.
PRESIGN_SECONDS = 3600
#: MIME type -> file extension of the accepted image types.
ALLOWED_IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
#: URL path where the app serves `MEDIA_DIR` (local store only).
MEDIA_URL_PATH = "/media"


class AvatarStore(Protocol):
    """Where avatar bytes live. Keys are relative POSIX paths made by `avatar_key`."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def url(self, key: str) -> str: ...


def _check_key(key: str) -> str:
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or not key.startswith("avatars/"):
        raise ValueError(f"not an avatar key: {key!r}")
    return key


@dataclass
class LocalStore:
    """Files under `root`; URLs under `base_url` + `/media/`."""

    root: Path
    base_url: str

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)

        await asyncio.to_thread(write)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def url(self, key: str) -> str:
        return f"{self.base_url.rstrip('/')}{MEDIA_URL_PATH}/{_check_key(key)}"


@dataclass
class S3Store:
    """An S3 bucket through aioboto3 (path-style addressing, SigV4: works with MinIO and moto)."""

    endpoint_url: str
    bucket: str
    access_key: str | None
    secret_key: str | None
    region: str
    #: Endpoint used only to sign URLs handed to browsers (when the API reaches S3 by an inner name).
    public_endpoint_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The bucket the `S3_*` settings name (avatars and media share it)."""
        return cls(
            endpoint_url=str(settings.s3_endpoint_url),
            bucket=settings.s3_bucket,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
            public_endpoint_url=settings.s3_public_endpoint_url,
        )

    def _client(self, endpoint_url: str | None = None) -> Any:
        import aioboto3
        from botocore.config import Config  # type: ignore[import-untyped]

        return aioboto3.Session().client(
            "s3",
            endpoint_url=endpoint_url or self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        async with self._client() as s3:
            await s3.put_object(
                Bucket=self.bucket,
                Key=_check_key(key),
                Body=data,
                ContentType=content_type,
                CacheControl="private, max-age=3600",
            )

    async def delete(self, key: str) -> None:
        async with self._client() as s3:
            await s3.delete_object(Bucket=self.bucket, Key=_check_key(key))

    async def url(self, key: str) -> str:
        async with self._client(self.public_endpoint_url) as s3:
            return str(
                await s3.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": self.bucket, "Key": _check_key(key)},
                    ExpiresIn=PRESIGN_SECONDS,
                )
            )


def store_for(settings: Settings) -> AvatarStore:
    """The store the settings select: S3 when `S3_ENDPOINT_URL` is set, else the local folder."""
    if settings.s3_endpoint_url:
        return S3Store.from_settings(settings)
    return LocalStore(root=settings.media_dir, base_url=settings.public_base_url)


def get_store() -> AvatarStore:
    return store_for(get_settings())


def sniff_image(data: bytes) -> tuple[str, str]:
    """`(mime, extension)` of a JPEG, PNG or WebP recognised from its magic number.

    Raises `UnsupportedMediaType` (415) for anything else, whatever it claims to be.
    """
    kind = filetype.guess(data[:262]) if data else None
    if kind is None or kind.mime not in ALLOWED_IMAGE_TYPES:
        raise UnsupportedMediaType(
            "The avatar must be a JPEG, PNG or WebP image.", code="unsupported_media_type"
        )
    return kind.mime, ALLOWED_IMAGE_TYPES[kind.mime]


def avatar_key(user_id: int, extension: str) -> str:
    """A fresh object key under the user's own prefix: `avatars/<user_id>/<uuid4 hex>.<ext>`."""
    return f"avatars/{int(user_id)}/{uuid.uuid4().hex}.{extension}"


async def avatar_url(key: str | None) -> str | None:
    """The URL for a stored avatar key (presigned for S3), or None when there is no avatar."""
    if not key:
        return None
    return await get_store().url(key)


async def _profile(user_id: int) -> ProfileOut:
    """The profile as `GET /accounts/me/profile` shows it (accounts' `ProfileOut`)."""
    return await profile_out((await profile_rows([user_id])).get(user_id))


async def _delete_quietly(store: AvatarStore, key: str) -> None:
    try:
        await store.delete(key)
    except Exception:
        # The row no longer points at it: an orphan object, not a user-facing failure.
        log.warning("could not delete avatar object %s", key, exc_info=True)


async def set_avatar(user_id: int, data: bytes) -> ProfileOut:
    """Store `data` as the user's avatar and return the profile with the new `avatar_url`.

    Raises `PayloadTooLarge` (413) over `MAX_AVATAR_BYTES`, `InvalidInput` for
    an empty file, `UnsupportedMediaType` (415) unless JPEG/PNG/WebP. The
    previous avatar object is deleted once the profile points at the new one;
    if saving the profile fails, the new object is removed again.
    """
    if len(data) > MAX_AVATAR_BYTES:
        raise PayloadTooLarge(f"The avatar must be at most {MAX_AVATAR_BYTES // (1024 * 1024)} MB.")
    if not data:
        raise InvalidInput("The file is empty.", code="empty_file")
    mime, extension = sniff_image(data)
    store = get_store()
    key = avatar_key(user_id, extension)
    await store.put(key, data, mime)
    try:
        async with transaction():
            row = (
                await UserProfile.select(UserProfile.id, UserProfile.avatar)
                .where(UserProfile.user == user_id)
                .first()
                .run()
            )
            previous = row["avatar"] if row else None
            if row is None:
                await UserProfile.insert(UserProfile(user=user_id, avatar=key)).run()
            else:
                await UserProfile.update({UserProfile.avatar: key}).where(UserProfile.id == row["id"]).run()
    except BaseException:
        await _delete_quietly(store, key)
        raise
    if previous and previous != key and previous.startswith(f"avatars/{int(user_id)}/"):
        await _delete_quietly(store, previous)
    return await _profile(user_id)


async def remove_avatar(user_id: int) -> None:
    """Clear the user's avatar and delete its object (no error when there is none)."""
    async with transaction():
        row = (
            await UserProfile.select(UserProfile.id, UserProfile.avatar)
            .where(UserProfile.user == user_id)
            .first()
            .run()
        )
        if row is None or not row["avatar"]:
            return
        await UserProfile.update({UserProfile.avatar: None}).where(UserProfile.id == row["id"]).run()
    previous: str = row["avatar"]
    if previous.startswith(f"avatars/{int(user_id)}/"):
        await _delete_quietly(get_store(), previous)


# --- Public media URLs (posters) -------------------------------------------
# Used on the catalog's hot read path (every list item's `poster_url`), so it
# signs nothing and does no I/O: posters live under the public-read `posters/`
# prefix (the app's `/media` folder locally, a public-read prefix or CDN on S3;
# docs/media.md). Video objects live elsewhere and are only reached by signed URLs.

#: Key prefix whose objects anyone may read.
PUBLIC_MEDIA_PREFIX = "posters/"


def public_media_base(settings: Settings) -> str:
    """Base URL of the public poster prefix: `MEDIA_PUBLIC_BASE_URL`, else derived from the store."""
    if settings.media_public_base_url:
        return settings.media_public_base_url.rstrip("/")
    if settings.s3_endpoint_url:
        endpoint = settings.s3_public_endpoint_url or settings.s3_endpoint_url
        return f"{endpoint.rstrip('/')}/{settings.s3_bucket}"
    return f"{settings.public_base_url.rstrip('/')}{MEDIA_URL_PATH}"


def public_media_url(key: str | None) -> str | None:
    """The public URL of a poster key (None for no key, or a key outside the public prefix)."""
    if not key or not key.startswith(PUBLIC_MEDIA_PREFIX):
        return None
    return f"{public_media_base(get_settings())}/{key}"
