"""Media assets: ingesting, listing, removing, and the two-step uploads (docs/media.md).

Rules:
- a file is at most the cap of its kind (`MEDIA_MAX_FEATURE_BYTES`,
  `..._TRAILER_...`, `..._POSTER_...`): 413 `payload_too_large`, checked from
  the announced size before any byte is read, and again on what arrived;
- its content is checked from the bytes (`probe`): anything else is 415
  `unsupported_media_type`, and bytes already stored are deleted;
- keys are made by the server (`storage.new_key`), never from a file name;
- a movie has at most one `ready` asset per kind. A new one replaces it: the
  rows change in one transaction (the movie row locked, so two replacements
  queue), and the old object is deleted after commit. Storing the same bytes
  (same sha256) again changes nothing and says so (`unchanged`);
- an upload the client never completes is removed by the scheduler once
  `upload_expires_at` passes (`cleanup_abandoned`);
- deleting a movie, by any door, deletes its stored objects after commit
  (`forget_movie_media`, a catalog delete guard), and the scheduler removes
  any object no asset names once it is older than an upload may take
  (`sweep_orphans`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cinema.catalog.errors import MovieNotFound
from cinema.clock import utcnow
from cinema.config import get_settings
from cinema.db import fetch, lock_row, transaction
from cinema.errors import CinemaError, PayloadTooLarge, UnsupportedMediaType
from cinema.media import probe, signing, storage
from cinema.media.errors import (
    InvalidSignature,
    MediaTooLarge,
    NoMedia,
    UnsupportedMedia,
    UploadIncomplete,
    UploadNotFound,
    UploadNotInProgress,
)
from cinema.media.schemas import AssetOut, IngestOut, UploadOut
from cinema.media.tables import AssetStatus, MediaAsset, MediaKind
from cinema.sql import as_datetime

log = logging.getLogger("cinema.media")


def cap(kind: MediaKind) -> int:
    """The largest file accepted for `kind`, in bytes (a setting)."""
    settings = get_settings()
    return {
        MediaKind.FEATURE: settings.media_max_feature_bytes,
        MediaKind.TRAILER: settings.media_max_trailer_bytes,
        MediaKind.POSTER: settings.media_max_poster_bytes,
    }[kind]


def too_large(kind: MediaKind, limit: int | None = None) -> MediaTooLarge:
    limit = cap(kind) if limit is None else limit
    return MediaTooLarge(f"A {kind.value} file may be at most {limit} bytes.", max_bytes=limit)


def check_size(kind: MediaKind, size: int) -> None:
    """Raise 413 when `size` is over the cap of `kind`."""
    if size > cap(kind):
        raise too_large(kind)


def probe_file(kind: MediaKind, path: Path) -> probe.MediaInfo:
    """What the file is, or 415 when it is not an accepted type for `kind` (call in a thread)."""
    return probe.probe_video(path) if kind.is_video else probe.probe_poster(path)


@contextlib.asynccontextmanager
async def temp_file(suffix: str = "") -> AsyncIterator[Path]:
    """A scratch file in the private media folder's `tmp/` (same disk as the media), removed after."""
    folder = get_settings().private_media_dir / "tmp"
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=folder, suffix=suffix)
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


_COLUMNS = (
    "id, movie_id, kind, status, storage_key, content_type, size_bytes, sha256, duration_seconds, "
    "width, height, codecs, error, uploaded_by_id, upload_id, upload_expires_at, created_at, updated_at"
)


def _asset(row: Any) -> AssetOut:
    return AssetOut(
        id=row["id"],
        movie_id=row["movie_id"],
        kind=row["kind"],
        status=row["status"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        duration_seconds=row["duration_seconds"],
        width=row["width"],
        height=row["height"],
        codecs=row["codecs"],
        error=row["error"],
        uploaded_by=row["uploaded_by_id"],
        created_at=as_datetime(row["created_at"]),
        updated_at=as_datetime(row["updated_at"]),
    )


async def _require_movie(movie_id: int) -> None:
    if not await fetch("SELECT id FROM movies WHERE id = {}", movie_id):
        raise MovieNotFound(movie_id=movie_id)


async def _ready(movie_id: int, kind: MediaKind) -> Any:
    rows = await fetch(
        f"SELECT {_COLUMNS} FROM media_assets WHERE movie_id = {{}} AND kind = {{}} AND status = 'ready'",  # noqa: S608
        movie_id,
        kind.value,
    )
    return rows[0] if rows else None


async def _delete_quietly(key: str) -> None:
    try:
        await storage.get_media_store().delete(key)
    except Exception:
        # The row no longer points at it: an orphan object, not a user-facing failure.
        log.warning("could not delete media object %s", key, exc_info=True)


async def _make_ready(
    asset_id: int | None, movie_id: int, kind: MediaKind, values: dict[str, Any]
) -> AssetOut:
    """Make the asset the movie's ready one of its kind, replacing the previous one (see the rules)."""
    previous_key: str | None = None
    async with transaction() as hooks:
        if not await lock_row("movies", movie_id):
            raise MovieNotFound(movie_id=movie_id)
        old = await _ready(movie_id, kind)
        if old is not None:
            previous_key = str(old["storage_key"])
            await MediaAsset.delete().where(MediaAsset.id == old["id"]).run()
        values = {**values, "status": AssetStatus.READY.value, "upload_id": None, "upload_expires_at": None}
        if asset_id is None:
            row = MediaAsset(movie=movie_id, kind=kind.value, **values)
            await row.save()
            asset_id = int(row.id)
        else:
            updated = (
                await MediaAsset.update({getattr(MediaAsset, name): value for name, value in values.items()})
                .where((MediaAsset.id == asset_id) & (MediaAsset.status == AssetStatus.UPLOADING.value))
                .returning(MediaAsset.id)
                .run()
            )
            if not updated:
                raise UploadNotInProgress()
        if previous_key is not None:
            key = previous_key
            hooks.add(lambda: _delete_quietly(key))
    rows = await fetch(f"SELECT {_COLUMNS} FROM media_assets WHERE id = {{}}", asset_id)  # noqa: S608
    return _asset(rows[0])


def _values(info: probe.MediaInfo, key: str, sha: str, size: int, uploaded_by: int | None) -> dict[str, Any]:
    return {
        "storage_key": key,
        "content_type": info.content_type,
        "size_bytes": size,
        "sha256": sha,
        "duration_seconds": info.duration_seconds,
        "width": info.width,
        "height": info.height,
        "codecs": info.codecs,
        "uploaded_by": uploaded_by,
        "error": None,
    }


@dataclass
class _Checked:
    info: probe.MediaInfo
    sha256: str
    size: int


async def _check_local_file(kind: MediaKind, path: Path) -> _Checked:
    size = (await asyncio.to_thread(path.stat)).st_size
    check_size(kind, size)
    if size == 0:
        raise UnsupportedMedia("The file is empty.")
    sha, size = await asyncio.to_thread(storage.sha256_of, path)
    check_size(kind, size)  # it may have grown since
    info = await asyncio.to_thread(probe_file, kind, path)
    return _Checked(info, sha, size)


async def ingest_file(
    movie_id: int,
    kind: MediaKind,
    path: Path,
    *,
    uploaded_by: int | None,
    progress: storage.Progress | None = None,
) -> IngestOut:
    """Check a local file and make it the movie's `kind` asset (the CLI and `POST /movies/{id}/media`).

    The file is checked before anything is stored: 413 over the cap, 415 when
    its content is not accepted. Same bytes as the ready asset: nothing is
    stored and `unchanged` is True. Raises NotFound for an unknown movie.
    """
    await _require_movie(movie_id)
    checked = await _check_local_file(kind, path)
    current = await _ready(movie_id, kind)
    if current is not None and current["sha256"] == checked.sha256:
        return IngestOut(asset=_asset(current), unchanged=True)
    key = storage.new_key(movie_id, kind.is_video, checked.info.extension)
    store = storage.get_media_store()
    await store.put_file(key, path, checked.info.content_type, progress)
    try:
        asset = await _make_ready(
            None, movie_id, kind, _values(checked.info, key, checked.sha256, checked.size, uploaded_by)
        )
    except BaseException:
        await _delete_quietly(key)
        raise
    return IngestOut(asset=asset)


async def list_assets(movie_id: int) -> list[AssetOut]:
    """Every asset of the movie (ready ones, uploads in flight and refused ones), newest first."""
    await _require_movie(movie_id)
    rows = await fetch(
        f"SELECT {_COLUMNS} FROM media_assets WHERE movie_id = {{}} ORDER BY id DESC",  # noqa: S608
        movie_id,
    )
    return [_asset(row) for row in rows]


async def remove_asset(movie_id: int, kind: MediaKind) -> None:
    """Delete the movie's ready `kind` asset and its object; 404 `no_media` when there is none.

    Playback URLs already handed out stop working locally at once (the file is
    gone) and on S3 as soon as the object is deleted.
    """
    await _require_movie(movie_id)
    async with transaction() as hooks:
        await lock_row("movies", movie_id)
        current = await _ready(movie_id, kind)
        if current is None:
            raise NoMedia(f"This movie has no {kind.value}.")
        await MediaAsset.delete().where(MediaAsset.id == current["id"]).run()
        key = str(current["storage_key"])
        hooks.add(lambda: _delete_quietly(key))


async def start_upload(movie_id: int, kind: MediaKind, size: int, *, uploaded_by: int | None) -> UploadOut:
    """Open a two-step upload: where to send `size` bytes, then `complete_upload`.

    413 when `size` is over the cap of `kind` (nothing is created). The bytes
    wait under a private `uploads/` key until their content is checked, so
    nothing unchecked is ever public or playable.
    """
    await _require_movie(movie_id)
    check_size(kind, size)
    settings = get_settings()
    expires = utcnow() + timedelta(seconds=settings.media_upload_ttl_seconds)
    key = storage.staging_key()
    store = storage.get_media_store()
    row = MediaAsset(
        movie=movie_id,
        kind=kind.value,
        status=AssetStatus.UPLOADING.value,
        storage_key=key,
        size_bytes=size,
        uploaded_by=uploaded_by,
        upload_expires_at=expires,
    )
    await row.save()
    try:
        target = await store.start_upload(key, "application/octet-stream", size, expires, int(row.id))
    except BaseException:
        await MediaAsset.delete().where(MediaAsset.id == row.id).run()
        raise
    if target.upload_id is not None:
        await MediaAsset.update({MediaAsset.upload_id: target.upload_id}).where(MediaAsset.id == row.id).run()
    return UploadOut(
        upload_id=int(row.id), kind=kind, part_size=target.part_size, urls=target.urls, expires_at=expires
    )


async def _fail(asset_id: int, key: str, reason: str) -> None:
    await _delete_quietly(key)
    await (
        MediaAsset.update(
            {
                MediaAsset.status: AssetStatus.FAILED.value,
                MediaAsset.error: reason,
                MediaAsset.upload_id: None,
            }
        )
        .where(MediaAsset.id == asset_id)
        .run()
    )


async def complete_upload(movie_id: int, upload_id: int) -> AssetOut:
    """Check what was uploaded and make it the movie's asset of its kind.

    404 for an unknown upload of this movie, 409 `upload_not_in_progress` when
    it was completed, refused or cleaned up already. Over the cap: 413; not an
    accepted type: 415. Either way the stored bytes are deleted and the upload
    is marked `failed` with the reason.
    """
    rows = await fetch(
        f"SELECT {_COLUMNS} FROM media_assets WHERE id = {{}} AND movie_id = {{}}",  # noqa: S608
        upload_id,
        movie_id,
    )
    if not rows:
        raise UploadNotFound()
    row = rows[0]
    if row["status"] != AssetStatus.UPLOADING.value:
        raise UploadNotInProgress()
    kind = MediaKind(row["kind"])
    staging = str(row["storage_key"])
    store = storage.get_media_store()
    try:
        await store.finish_upload(staging, row["upload_id"])
    except Exception:
        log.info("could not finish upload %s", upload_id, exc_info=True)
        raise UploadIncomplete() from None
    async with temp_file() as scratch:
        size = await store.fetch_to(staging, scratch)
        try:
            if size == 0:
                raise UnsupportedMedia("Nothing was uploaded.")
            checked = await _check_local_file(kind, scratch)
        except (PayloadTooLarge, UnsupportedMediaType) as exc:
            await _fail(upload_id, staging, exc.detail)
            raise
        key = storage.new_key(movie_id, kind.is_video, checked.info.extension)
        await store.put_file(key, scratch, checked.info.content_type)
    await _delete_quietly(staging)
    try:
        return await _make_ready(
            upload_id,
            movie_id,
            kind,
            _values(checked.info, key, checked.sha256, checked.size, row["uploaded_by_id"]),
        )
    except BaseException:
        await _delete_quietly(key)
        raise


async def cleanup_abandoned(now: datetime | None = None) -> int:
    """Remove uploads past `upload_expires_at` (their stored parts too); the number removed."""
    now = now or utcnow()
    rows = (
        await MediaAsset.select(MediaAsset.id, MediaAsset.storage_key, MediaAsset.upload_id)
        .where((MediaAsset.status == AssetStatus.UPLOADING.value) & (MediaAsset.upload_expires_at < now))
        .run()
    )
    store = storage.get_media_store()
    removed = 0
    for row in rows:
        try:
            await store.abort_upload(str(row["storage_key"]), row["upload_id"])
        except Exception:
            log.warning("could not abort upload %s", row["id"], exc_info=True)
            continue
        deleted = (
            await MediaAsset.delete()
            .where((MediaAsset.id == row["id"]) & (MediaAsset.status == AssetStatus.UPLOADING.value))
            .returning(MediaAsset.id)
            .run()
        )
        removed += len(deleted)
    return removed


async def cleanup(now: datetime | None = None) -> dict[str, int]:
    """The scheduled media cleanup: abandoned uploads, then orphaned objects (the numbers removed)."""
    now = now or utcnow()
    return {"abandoned_uploads": await cleanup_abandoned(now), "orphaned_objects": await sweep_orphans(now)}


async def _discard_quietly(item: storage.StoredObject) -> bool:
    try:
        await storage.get_media_store().discard(item)
    except Exception:
        log.warning("could not remove media object %s", item.key, exc_info=True)
        return False
    return True


async def forget_movie_media(movie_id: int) -> None:
    """Once the movie's deletion commits, delete its stored objects and abort its unfinished uploads.

    Runs inside the deletion's transaction (a catalog delete guard, see
    `cinema/media/movie_guards.py`), after the movie row is locked, so no
    asset is added while its keys are read; the rows go with the movie (ON
    DELETE CASCADE). A refused or rolled-back deletion runs nothing. An
    object that cannot be deleted then is left to `sweep_orphans`.
    """
    async with transaction() as hooks:
        rows = await fetch("SELECT storage_key, upload_id FROM media_assets WHERE movie_id = {}", movie_id)
        for row in rows:
            hooks.add(functools.partial(_abort_quietly, str(row["storage_key"]), row["upload_id"]))


async def _abort_quietly(key: str, upload_id: str | None) -> None:
    """Delete the object under `key` and abort its unfinished multipart upload, if any."""
    try:
        await storage.get_media_store().abort_upload(key, upload_id)
    except Exception:
        log.warning("could not remove media object %s", key, exc_info=True)


async def sweep_orphans(now: datetime | None = None) -> int:
    """Remove stored media no asset references, and stale scratch files; the number removed.

    The safety net behind `forget_movie_media`, `remove_asset` and replacements,
    whose deletions after commit may fail (storage down): whatever the store
    holds under the media prefixes that no `media_assets` row names (its key,
    or its S3 multipart upload id) goes, once older than
    `MEDIA_UPLOAD_TTL_SECONDS`. The age matters: an object is written before
    the row naming it commits, and a large upload runs a while. Run by the
    scheduler with `cleanup_abandoned` and by `cinema movies media cleanup`.
    """
    now = now or utcnow()
    cutoff = now - timedelta(seconds=get_settings().media_upload_ttl_seconds)
    # Rows first, objects second: an object written since is younger than the cutoff.
    rows = await MediaAsset.select(MediaAsset.storage_key, MediaAsset.upload_id).run()
    keys = {str(row["storage_key"]) for row in rows}
    uploads = {str(row["upload_id"]) for row in rows if row["upload_id"]}
    removed = 0
    for item in await storage.get_media_store().inventory():
        if item.modified >= cutoff:
            continue
        referenced = item.upload_id in uploads if item.upload_id else item.key in keys and not item.scratch
        if referenced:
            continue
        removed += await _discard_quietly(item)
    return removed


async def _writable(upload: int, key: str) -> None:
    """Raise unless the upload `upload` is in progress with its bytes going to `key`.

    404 `upload_not_found` when it is gone (cleaned up); 409
    `upload_not_in_progress` once it was completed or refused.
    """
    rows = await fetch("SELECT status, storage_key FROM media_assets WHERE id = {}", upload)
    if not rows:
        raise UploadNotFound("This upload does not exist any more (it was cleaned up); start a new one.")
    status = str(rows[0]["status"])
    if status != AssetStatus.UPLOADING.value or rows[0]["storage_key"] != key:
        raise UploadNotInProgress(f"This upload is {status}: it takes no more bytes; start a new one.")


async def receive_local_upload(
    key: str, upload: int, max_bytes: int, expires: int, signature: str, chunks: AsyncIterator[bytes]
) -> int:
    """Write the body of a local signed upload URL (`start_upload` in local mode); the bytes received.

    403 `invalid_signature` for a tampered or expired URL; 404
    `upload_not_found` when the upload is gone (cleaned up), 409
    `upload_not_in_progress` once it was completed or refused: a URL stays
    signed until it expires, but only an upload in progress takes bytes, so
    nothing is written that no row would ever own. 413 past the size announced
    when the upload was opened. The body goes to a scratch file renamed into
    place once whole, so `complete` never reads half a body; what was written
    is removed on any failure.
    """
    grant = storage.upload_grant(max_bytes, upload)
    if not signing.valid(signature, "put", key, 0, expires, utcnow(), grant):
        raise InvalidSignature()
    store = storage.get_media_store()
    if not key.startswith("uploads/") or not isinstance(store, storage.LocalMediaStore):
        raise InvalidSignature()
    await _writable(upload, key)
    target = store.path(key)
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    received = 0
    handle = await asyncio.to_thread(partial.open, "wb")
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > max_bytes:
                raise MediaTooLarge(
                    f"The upload was opened for {max_bytes} bytes; more arrived.", max_bytes=max_bytes
                )
            await asyncio.to_thread(handle.write, chunk)
        handle.close()
        # The upload may have been completed, refused or cleaned up while the body arrived.
        await _writable(upload, key)
        await asyncio.to_thread(os.replace, partial, target)
    except BaseException:
        handle.close()
        await asyncio.to_thread(partial.unlink, missing_ok=True)
        raise
    # Completed in the instant between the check and the rename: the object belongs to no upload.
    try:
        await _writable(upload, key)
    except CinemaError:
        await asyncio.to_thread(target.unlink, missing_ok=True)
        raise
    return received
