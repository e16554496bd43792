"""Object storage backends, shared by avatars (accounts) and media (docs/media.md).

Two stores behind one small interface:
- `S3Store` (aioboto3) when `S3_ENDPOINT_URL` is set: objects in `S3_BUCKET`
  (MinIO in compose, moto's server in tests); URLs are presigned GETs valid
  for `PRESIGN_SECONDS`.
- `LocalStore` otherwise: files under `MEDIA_DIR`, served by the app at
  `/media/<key>` (see `cinema.api.app`); URLs are `PUBLIC_BASE_URL/media/<key>`.

Keys are made by the server, never from a client's file name. What may be
stored where (types, sizes, key prefixes) is the owning domain's rule:
`cinema.accounts.avatars`, `cinema.media.storage`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, Self

from cinema.config import Settings, get_settings

log = logging.getLogger("cinema.storage")

#: Lifetime of a presigned avatar URL.
PRESIGN_SECONDS = 3600
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
