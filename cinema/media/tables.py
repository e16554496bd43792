"""Media tables: a movie's video and poster assets, and each viewer's watch progress.

An asset is one stored object (feature, trailer or poster) with what was read
from its bytes. At most one asset per (movie, kind) is `ready` (a partial unique
index, migration 0009); uploading a new one replaces the ready one when the new
one is checked. `uploading` rows are multipart or signed uploads in flight;
the scheduler removes those left past `upload_expires_at` (docs/media.md).
"""

from __future__ import annotations

import enum

from piccolo.columns import (
    BigInt,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.readable import Readable
from piccolo.table import Table

from cinema.accounts.tables import User
from cinema.catalog.tables import Movie


class MediaKind(enum.StrEnum):
    FEATURE = "feature"
    TRAILER = "trailer"
    POSTER = "poster"

    @property
    def is_video(self) -> bool:
        return self is not MediaKind.POSTER


class AssetStatus(enum.StrEnum):
    UPLOADING = "uploading"
    READY = "ready"
    FAILED = "failed"


class MediaAsset(Table, tablename="media_assets"):
    """One stored media object of a movie. `storage_key` is made by the server, never by a client."""

    id: Serial

    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="movie_id")
    kind = Varchar(length=16, choices=MediaKind)
    status = Varchar(length=16, choices=AssetStatus, default=AssetStatus.UPLOADING)
    storage_key = Varchar(length=255, unique=True)
    content_type = Varchar(length=64, null=True, default=None)
    size_bytes = BigInt(null=True, default=None)
    sha256 = Varchar(length=64, null=True, default=None)
    duration_seconds = DoublePrecision(null=True, default=None)
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    #: Codec names as PyAV reads them, video first: `vp9,opus`, `h264,aac`, `png`.
    codecs = Varchar(length=100, null=True, default=None)
    #: Why the content was refused (status `failed`).
    error = Text(null=True, default=None)
    uploaded_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null, db_column_name="uploaded_by_id")
    #: S3 multipart upload id of an upload in flight (None for a local signed upload).
    upload_id = Varchar(length=1024, null=True, default=None)
    #: When an `uploading` row is abandoned and may be cleaned up.
    upload_expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)
    # UNIQUE(movie_id, kind) WHERE status = 'ready' as "media_assets_ready": migration 0009.

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s #%s (%s)", columns=[cls.kind, cls.id, cls.status])


class WatchProgress(Table, tablename="watch_progress"):
    """Where a viewer is in a movie's feature. One row per (user, movie); history keeps it after a clear."""

    id: Serial

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="movie_id")
    position_seconds = DoublePrecision(default=0.0)
    started_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # UNIQUE(user_id, movie_id) as "watch_progress_unique" and (user_id, updated_at)
    # as "watch_progress_recent": migration 0009.
