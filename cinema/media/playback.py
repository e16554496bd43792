"""Playback URLs and the local signed streams (docs/media.md, "Playback").

- `playback`: the feature, for a caller who may watch (`cinema.entitlements`):
  a URL valid `PLAYBACK_URL_TTL_SECONDS`, the content type, the duration and
  where the caller stopped. The first URL issued for a rental starts its
  clock. A refund, a lost entitlement, a deactivation or a
  deletion stop new URLs at once; a URL already handed out lives at most its
  TTL (a client asks again when `expires_at` passes).
- `trailer`: the same shape, for anyone.
- `stream_file`: the file behind a local signed URL, once the signature and
  expiry are checked (tampered or expired: 403 `invalid_signature`).
"""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

from cinema.accounts import sessions
from cinema.accounts.actor import CurrentUser
from cinema.catalog.errors import MovieNotFound
from cinema.clock import utcnow
from cinema.config import get_settings
from cinema.db import fetch
from cinema.entitlements import access
from cinema.entitlements import service as entitlements
from cinema.media import signing, storage
from cinema.media.errors import InvalidSignature, NoMedia
from cinema.media.schemas import PlaybackOut
from cinema.media.tables import MediaKind

_ASSET_JOIN = "LEFT JOIN media_assets a ON a.movie_id = m.id AND a.kind = {} AND a.status = 'ready'"
_TRAILER_SQL = (
    f"SELECT m.id, a.storage_key, a.content_type, a.duration_seconds FROM movies m {_ASSET_JOIN} "  # noqa: S608
    "WHERE m.id = {}"
)
# The feature, the caller's entitlement (the rule's input, at `now`), whether this is a
# rental's first playback (docs/entitlements.md, "Rentals") and position, read in the
# caller's authentication statement: one round trip per playback request (docs/media.md).
_FEATURE_COLUMNS = (
    "m.id AS movie_id, a.storage_key, a.content_type, a.duration_seconds, "  # noqa: S608 - refs are code
    f"{access.owns_sql('u.id', 'm.id', '{}')} AS owned, "
    f"{entitlements.unstarted_rental_sql('u.id', 'm.id', '{}')} AS unstarted, "
    "(SELECT w.position_seconds FROM watch_progress w WHERE w.user_id = u.id AND w.movie_id = m.id) AS position"
)
_FEATURE_SQL = sessions.authenticate_sql(_FEATURE_COLUMNS, f"LEFT JOIN movies m ON m.id = {{}} {_ASSET_JOIN}")

#: Content type of a stored video by its key's extension (keys are made by the server).
CONTENT_TYPES = {"mp4": "video/mp4", "webm": "video/webm"}


async def _url(row: Any, user_id: int) -> tuple[str, Any]:
    ttl = get_settings().playback_url_ttl_seconds
    # Whole seconds: the local signature covers a Unix time.
    expires = (utcnow() + timedelta(seconds=ttl)).replace(microsecond=0)
    url = await storage.get_media_store().signed_get(
        str(row["storage_key"]), user_id=user_id, expires=expires, content_type=str(row["content_type"])
    )
    return url, expires


async def playback(access_token: str, movie_id: int) -> tuple[CurrentUser, PlaybackOut]:
    """The caller of `access_token` and a playback URL of the movie's feature for them.

    Authenticates the token itself, in the statement that reads the feature
    (`sessions.authenticate_with`): 401 like every authenticated route, then
    404 `not_found` for an unknown movie, 403 `not_entitled` when the caller
    may not watch it, 404 `no_media` when it has no ready feature. The first
    URL issued for a rental starts its clock (`entitlements.start_rental`).
    """
    now = utcnow()
    actor, row = await sessions.authenticate_with(
        access_token, _FEATURE_SQL, now, now, movie_id, MediaKind.FEATURE.value
    )
    if row["movie_id"] is None:
        raise MovieNotFound(movie_id=movie_id)
    access.require(actor, row["owned"])
    if row["storage_key"] is None:
        raise NoMedia()
    if row["unstarted"]:
        await entitlements.start_rental(actor.id, movie_id, now)
    url, expires = await _url(row, actor.id)
    position = row["position"]
    return actor, PlaybackOut(
        url=url,
        expires_at=expires,
        content_type=row["content_type"],
        duration_seconds=row["duration_seconds"],
        resume_position_seconds=float(position) if position else None,
    )


async def trailer(movie_id: int) -> PlaybackOut:
    """A playback URL of the movie's trailer, for anyone; 404 `no_media` when it has none."""
    rows = await fetch(_TRAILER_SQL, MediaKind.TRAILER.value, movie_id)
    if not rows:
        raise MovieNotFound(movie_id=movie_id)
    row = rows[0]
    if row["storage_key"] is None:
        raise NoMedia("This movie has no trailer yet.")
    url, expires = await _url(row, 0)
    return PlaybackOut(
        url=url,
        expires_at=expires,
        content_type=row["content_type"],
        duration_seconds=row["duration_seconds"],
    )


def stream_file(key: str, user_id: int, expires: int, signature: str) -> tuple[Path, os.stat_result, str]:
    """The local file, its `stat` and its content type behind a signed stream URL.

    403 `invalid_signature` when the signature does not match or the URL has
    expired; 404 `no_media` when the file is gone (the asset was replaced or
    removed). Only video keys are ever signed for streaming.
    """
    if not signing.valid(signature, "get", key, user_id, expires, utcnow()):
        raise InvalidSignature()
    try:
        storage.check_key(key)
    except ValueError:
        raise InvalidSignature() from None
    store = storage.get_media_store()
    if not isinstance(store, storage.LocalMediaStore):
        raise NoMedia("Media is served from object storage.")
    path = store.path(key)
    content_type = CONTENT_TYPES.get(key.rsplit(".", 1)[-1])
    try:
        found = os.stat(path)
    except OSError:
        found = None
    if content_type is None or found is None or not stat.S_ISREG(found.st_mode):
        raise NoMedia("This video is no longer available. Ask for a new link.")
    return path, found, content_type
