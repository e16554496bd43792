"""Where media bytes live: the shared storage backends of `cinema.storage`, extended for video.

- `LocalMediaStore` (no `S3_ENDPOINT_URL`): posters under `MEDIA_DIR/posters/`
  (served publicly by the app at `/media/`), videos and uploads under the
  private folder (`Settings.private_media_dir`), which nothing serves as
  static files; they are read through signed app URLs (`signing`).
- `S3MediaStore` (aioboto3, the avatars' `S3Store`): one bucket; `posters/` is
  the public-read prefix (a bucket policy, docs/media.md), everything else is
  private and read through presigned GETs that live `PLAYBACK_URL_TTL_SECONDS`.
  Files are written with multipart uploads that are aborted on any failure,
  so no orphaned parts are left behind.

Keys are made by the server (`new_key`): `videos/<movie>/<uuid>.<ext>`,
`posters/<movie>/<uuid>.<ext>`, `uploads/<uuid>` (a poster being uploaded,
kept out of the public prefix until its content is checked).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from cinema.clock import utcnow
from cinema.config import Settings, get_settings
from cinema.media import signing
from cinema.storage import PUBLIC_MEDIA_PREFIX, S3Store

#: URL path of the local signed video URLs (GET/HEAD, Range).
STREAM_PATH = "/media-stream"
#: URL path of the local signed upload URLs (PUT).
UPLOAD_PATH = "/media-uploads"
#: S3 multipart part size: S3's minimum is 5 MiB (except the last part), and at most 10,000 parts.
MIN_PART_BYTES = 8 * 1024 * 1024
MAX_PARTS = 10_000
#: Bytes read from a local file at a time when hashing or copying.
CHUNK_BYTES = 1024 * 1024

_KEY = re.compile(
    r"^(videos|posters)/[0-9]{1,10}/[0-9a-f]{32}\.(mp4|webm|jpg|png|webp)$|^uploads/[0-9a-f]{32}$"
)

#: Called with the number of bytes sent since the last call.
Progress = Callable[[int], None]


def check_key(key: str) -> str:
    """`key` when it is one the server makes; ValueError otherwise (no client path reaches storage)."""
    if not _KEY.match(key):
        raise ValueError(f"not a media key: {key!r}")
    return key


def new_key(movie_id: int, kind_is_video: bool, extension: str) -> str:
    folder = "videos" if kind_is_video else PUBLIC_MEDIA_PREFIX.rstrip("/")
    return check_key(f"{folder}/{int(movie_id)}/{uuid.uuid4().hex}.{extension}")


def staging_key() -> str:
    return f"uploads/{uuid.uuid4().hex}"


def upload_grant(size: int, upload: int) -> str:
    """What a local upload URL grants beyond its key: at most `size` bytes, for the asset row `upload`."""
    return f"{size}/{upload}"


def part_size(size: int) -> int:
    """The multipart part size for a `size`-byte object (at most `MAX_PARTS` parts)."""
    return max(MIN_PART_BYTES, math.ceil(size / MAX_PARTS))


@dataclass(frozen=True)
class UploadTarget:
    """Where a client sends an upload: one signed PUT URL (local) or presigned part URLs (S3)."""

    upload_id: str | None
    part_size: int
    urls: list[str]


@dataclass(frozen=True)
class StoredObject:
    """Something the store holds (`inventory`): an object, or what an unfinished write left.

    `key` is a media key, except for a local scratch file (`scratch`: a
    half-written copy or upload body, its path under the private root) ; an
    unfinished S3 multipart upload has its `upload_id`.
    """

    key: str
    modified: datetime
    upload_id: str | None = None
    scratch: bool = False


class MediaStore(Protocol):
    async def put_file(
        self, key: str, path: Path, content_type: str, progress: Progress | None = None
    ) -> None:
        """Store a local file under `key`, streamed (never read whole into memory)."""

    async def delete(self, key: str) -> None: ...

    async def fetch_to(self, key: str, path: Path) -> int:
        """Copy the object to a local file; its size (0 when there is no such object)."""

    async def copy(self, source: str, target: str, content_type: str) -> None: ...

    async def signed_get(self, key: str, *, user_id: int, expires: datetime, content_type: str) -> str:
        """A URL that reads the object until `expires`."""

    async def start_upload(
        self, key: str, content_type: str, size: int, expires: datetime, upload: int
    ) -> UploadTarget:
        """Open an upload of `size` bytes under `key` for the asset row `upload` (its id)."""

    async def finish_upload(self, key: str, upload_id: str | None) -> None:
        """Assemble a multipart upload (S3); nothing to do locally."""

    async def abort_upload(self, key: str, upload_id: str | None) -> None:
        """Drop an unfinished upload and whatever it stored."""

    async def inventory(self) -> list[StoredObject]:
        """Everything stored under the media prefixes (`videos/`, `posters/`, `uploads/`; never avatars)."""

    async def discard(self, item: StoredObject) -> None:
        """Remove one `inventory` item (delete the object, abort the upload, remove the scratch file)."""


def sha256_of(path: Path) -> tuple[str, int]:
    """(hex sha256, size) of a local file, read in chunks (call it in a thread)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@dataclass
class LocalMediaStore:
    """Posters under `public_root` (served at `/media`), everything else under `private_root`."""

    public_root: Path
    private_root: Path
    base_url: str

    def path(self, key: str) -> Path:
        root = self.public_root if check_key(key).startswith(PUBLIC_MEDIA_PREFIX) else self.private_root
        return root / key

    async def put_file(
        self, key: str, path: Path, content_type: str, progress: Progress | None = None
    ) -> None:
        target = self.path(key)

        def write() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            try:
                with path.open("rb") as source, tmp.open("wb") as out:
                    while chunk := source.read(CHUNK_BYTES):
                        out.write(chunk)
                        if progress is not None:
                            progress(len(chunk))
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)

        await asyncio.to_thread(write)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    async def fetch_to(self, key: str, path: Path) -> int:
        source = self.path(key)

        def copy() -> int:
            if not source.is_file():
                return 0
            shutil.copyfile(source, path)
            return path.stat().st_size

        return await asyncio.to_thread(copy)

    async def copy(self, source: str, target: str, content_type: str) -> None:
        await self.put_file(target, self.path(source), content_type)

    async def signed_get(self, key: str, *, user_id: int, expires: datetime, content_type: str) -> str:
        stamp = int(expires.timestamp())
        query = urlencode(
            {"user": user_id, "expires": stamp, "signature": signing.sign("get", key, user_id, stamp)}
        )
        return f"{self.base_url.rstrip('/')}{STREAM_PATH}/{quote(check_key(key))}?{query}"

    async def start_upload(
        self, key: str, content_type: str, size: int, expires: datetime, upload: int
    ) -> UploadTarget:
        stamp = int(expires.timestamp())
        signature = signing.sign("put", key, 0, stamp, upload_grant(size, upload))
        query = urlencode({"upload": upload, "max_bytes": size, "expires": stamp, "signature": signature})
        return UploadTarget(
            None, size, [f"{self.base_url.rstrip('/')}{UPLOAD_PATH}/{check_key(key)}?{query}"]
        )

    async def finish_upload(self, key: str, upload_id: str | None) -> None:
        return None

    async def abort_upload(self, key: str, upload_id: str | None) -> None:
        await self.delete(key)

    async def inventory(self) -> list[StoredObject]:
        def walk() -> list[StoredObject]:
            found: list[StoredObject] = []
            for root, folders in (
                (self.public_root, (PUBLIC_MEDIA_PREFIX.rstrip("/"),)),
                (self.private_root, ("videos", "uploads", "tmp")),
            ):
                for folder in folders:
                    for path in (root / folder).rglob("*") if (root / folder).is_dir() else ():
                        if not path.is_file():
                            continue
                        key = path.relative_to(root).as_posix()
                        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                        found.append(StoredObject(key, modified, scratch=not _KEY.match(key)))
            return found

        return await asyncio.to_thread(walk)

    async def discard(self, item: StoredObject) -> None:
        if not item.scratch:
            await self.delete(item.key)
            return
        # A scratch file: only ever under the private root's own folders, never a path from elsewhere.
        path = (self.private_root / item.key).resolve()
        root = self.private_root.resolve()
        if item.key.startswith(PUBLIC_MEDIA_PREFIX):
            path, root = (self.public_root / item.key).resolve(), self.public_root.resolve()
        if root in path.parents:
            await asyncio.to_thread(path.unlink, missing_ok=True)


@dataclass
class S3MediaStore(S3Store):
    """The avatars' S3 backend, with streamed multipart writes, presigned GETs and part URLs."""

    async def put_file(
        self, key: str, path: Path, content_type: str, progress: Progress | None = None
    ) -> None:
        size = (await asyncio.to_thread(path.stat)).st_size
        chunk = part_size(size)
        async with self._client() as s3:
            created = await s3.create_multipart_upload(
                Bucket=self.bucket, Key=check_key(key), ContentType=content_type
            )
            upload_id = created["UploadId"]
            try:
                parts: list[dict[str, Any]] = []
                with path.open("rb") as handle:
                    number = 1
                    while True:
                        data = await asyncio.to_thread(handle.read, chunk)
                        if not data and parts:
                            break
                        answer = await s3.upload_part(
                            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
                        )
                        parts.append({"ETag": answer["ETag"], "PartNumber": number})
                        if progress is not None:
                            progress(len(data))
                        number += 1
                        if len(data) < chunk:
                            break
                await s3.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
            except BaseException:
                # Shielded: a cancelled upload must still drop its parts.
                await asyncio.shield(self._abort(s3, key, upload_id))
                raise

    async def _abort(self, s3: Any, key: str, upload_id: str) -> None:
        await s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    async def delete(self, key: str) -> None:
        async with self._client() as s3:
            await s3.delete_object(Bucket=self.bucket, Key=check_key(key))

    async def fetch_to(self, key: str, path: Path) -> int:
        async with self._client() as s3:
            try:
                answer = await s3.get_object(Bucket=self.bucket, Key=check_key(key))
            except s3.exceptions.NoSuchKey:
                return 0
            size = 0
            with path.open("wb") as out:
                async for chunk in answer["Body"].iter_chunks(CHUNK_BYTES):
                    await asyncio.to_thread(out.write, chunk)
                    size += len(chunk)
            return size

    async def copy(self, source: str, target: str, content_type: str) -> None:
        async with self._client() as s3:
            await s3.copy_object(
                Bucket=self.bucket,
                Key=check_key(target),
                CopySource={"Bucket": self.bucket, "Key": check_key(source)},
                ContentType=content_type,
                MetadataDirective="REPLACE",
            )

    async def signed_get(self, key: str, *, user_id: int, expires: datetime, content_type: str) -> str:
        # The signature binds bucket, key and lifetime; S3 itself answers Range requests.
        seconds = max(1, math.ceil((expires - utcnow()).total_seconds()))
        async with self._client(self.public_endpoint_url) as s3:
            return str(
                await s3.generate_presigned_url(
                    "get_object",
                    Params={
                        "Bucket": self.bucket,
                        "Key": check_key(key),
                        "ResponseContentType": content_type,
                    },
                    ExpiresIn=seconds,
                )
            )

    async def start_upload(
        self, key: str, content_type: str, size: int, expires: datetime, upload: int
    ) -> UploadTarget:
        chunk = part_size(size)
        count = max(1, math.ceil(size / chunk))
        seconds = max(1, math.ceil((expires - utcnow()).total_seconds()))
        async with self._client() as s3:
            created = await s3.create_multipart_upload(
                Bucket=self.bucket, Key=check_key(key), ContentType=content_type
            )
        upload_id = str(created["UploadId"])
        urls: list[str] = []
        async with self._client(self.public_endpoint_url) as s3:
            for number in range(1, count + 1):
                urls.append(
                    await s3.generate_presigned_url(
                        "upload_part",
                        Params={
                            "Bucket": self.bucket,
                            "Key": key,
                            "UploadId": upload_id,
                            "PartNumber": number,
                        },
                        ExpiresIn=seconds,
                    )
                )
        return UploadTarget(upload_id, chunk, urls)

    async def finish_upload(self, key: str, upload_id: str | None) -> None:
        if upload_id is None:
            raise ValueError("an S3 upload needs its multipart upload id")
        async with self._client() as s3:
            parts: list[dict[str, Any]] = []
            marker = 0
            while True:
                listing = await s3.list_parts(
                    Bucket=self.bucket, Key=check_key(key), UploadId=upload_id, PartNumberMarker=marker
                )
                parts += [
                    {"ETag": p["ETag"], "PartNumber": p["PartNumber"]} for p in listing.get("Parts", [])
                ]
                if not listing.get("IsTruncated"):
                    break
                marker = int(listing["NextPartNumberMarker"])
            await s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )

    async def abort_upload(self, key: str, upload_id: str | None) -> None:
        async with self._client() as s3:
            if upload_id is not None:
                with contextlib.suppress(s3.exceptions.NoSuchUpload):
                    await self._abort(s3, check_key(key), upload_id)
            await s3.delete_object(Bucket=self.bucket, Key=check_key(key))

    async def inventory(self) -> list[StoredObject]:
        found: list[StoredObject] = []
        async with self._client() as s3:
            for prefix in (PUBLIC_MEDIA_PREFIX, "videos/", "uploads/"):
                pages = s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
                async for page in pages:
                    found += [StoredObject(o["Key"], o["LastModified"]) for o in page.get("Contents", [])]
                pages = s3.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix)
                async for page in pages:
                    found += [
                        StoredObject(u["Key"], u["Initiated"], upload_id=u["UploadId"])
                        for u in page.get("Uploads", [])
                    ]
        return [item for item in found if _KEY.match(item.key)]

    async def discard(self, item: StoredObject) -> None:
        async with self._client() as s3:
            if item.upload_id is None:
                await s3.delete_object(Bucket=self.bucket, Key=check_key(item.key))
            else:
                with contextlib.suppress(s3.exceptions.NoSuchUpload):
                    await self._abort(s3, check_key(item.key), item.upload_id)


def media_store_for(settings: Settings) -> MediaStore:
    """The store the settings select: S3 when `S3_ENDPOINT_URL` is set, else the local folders."""
    if settings.s3_endpoint_url:
        return S3MediaStore.from_settings(settings)
    return LocalMediaStore(
        public_root=settings.media_dir,
        private_root=settings.private_media_dir,
        base_url=settings.public_base_url,
    )


#: The store of the current settings object (every playback URL and stream asks for it).
_current: tuple[Settings, MediaStore] | None = None


def get_media_store() -> MediaStore:
    """`media_store_for` the current settings, made once per settings object."""
    global _current
    settings = get_settings()
    if _current is None or _current[0] is not settings:
        _current = (settings, media_store_for(settings))
    return _current[1]
