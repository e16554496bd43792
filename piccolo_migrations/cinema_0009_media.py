"""Media: `media_assets` (a movie's feature, trailer and poster) and `watch_progress`.

The table definitions are frozen here (not imported from `cinema.media.tables`),
so later changes to the live classes cannot change what this migration did.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
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
from piccolo.table import Table

ID = "2026-12-02T00:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "media assets and watch progress"


class Movie(Table, tablename="movies"):
    id: Serial


class User(Table, tablename="users"):
    id: Serial


class MediaAsset(Table, tablename="media_assets"):
    id: Serial
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="movie_id")
    kind = Varchar(length=16)
    status = Varchar(length=16, default="uploading")
    storage_key = Varchar(length=255, unique=True)
    content_type = Varchar(length=64, null=True, default=None)
    size_bytes = BigInt(null=True, default=None)
    sha256 = Varchar(length=64, null=True, default=None)
    duration_seconds = DoublePrecision(null=True, default=None)
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    codecs = Varchar(length=100, null=True, default=None)
    error = Text(null=True, default=None)
    uploaded_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null, db_column_name="uploaded_by_id")
    upload_id = Varchar(length=1024, null=True, default=None)
    upload_expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class WatchProgress(Table, tablename="watch_progress"):
    id: Serial
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="movie_id")
    position_seconds = DoublePrecision(default=0.0)
    started_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


INDEXES = [
    # At most one ready asset per (movie, kind); also serves the catalog's poster lookup.
    'CREATE UNIQUE INDEX IF NOT EXISTS "media_assets_ready" ON "media_assets" ("movie_id", "kind") '
    "WHERE status = 'ready'",
    'CREATE INDEX IF NOT EXISTS "media_assets_uploading" ON "media_assets" ("upload_expires_at") '
    "WHERE status = 'uploading'",
    'CREATE UNIQUE INDEX IF NOT EXISTS "watch_progress_unique" ON "watch_progress" ("user_id", "movie_id")',
    'CREATE INDEX IF NOT EXISTS "watch_progress_recent" ON "watch_progress" ("user_id", "updated_at")',
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cinema", description=DESCRIPTION)

    async def create() -> None:
        await MediaAsset.create_table(if_not_exists=True).run()
        await WatchProgress.create_table(if_not_exists=True).run()
        for statement in INDEXES:
            await MediaAsset.raw(statement).run()

    async def drop() -> None:
        await WatchProgress.alter().drop_table(if_exists=True).run()
        await MediaAsset.alter().drop_table(if_exists=True).run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
