"""Composite unique keys, as unique indexes.

Piccolo's `Unique` constraint is added with `ALTER TABLE ... ADD CONSTRAINT`,
which SQLite lacks; `CREATE UNIQUE INDEX` works on both engines and serves
`ON CONFLICT` upserts the same way. Each table's module names its key.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-29T00:00:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique keys"

UNIQUE_KEYS = {
    "movies": ("name", "year", "time"),
    "movie_genres": ("movie_id", "genre_id"),
    "movie_stars": ("movie_id", "star_id"),
    "movie_directors": ("movie_id", "director_id"),
    "reactions": ("user_id", "movie_id"),
    "ratings": ("user_id", "movie_id"),
    "comment_likes": ("user_id", "comment_id"),
    "favorites": ("user_id", "movie_id"),
    "cart_items": ("cart_id", "movie_id"),
    "order_items": ("order_id", "movie_id"),
    "purchases": ("user_id", "movie_id"),
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cinema", description=DESCRIPTION)
    for table, columns in UNIQUE_KEYS.items():
        cols = ", ".join(f'"{c}"' for c in columns)
        manager.add_raw(_run(f'CREATE UNIQUE INDEX IF NOT EXISTS "{table}_unique" ON "{table}" ({cols})'))
        manager.add_raw_backwards(_run(f'DROP INDEX IF EXISTS "{table}_unique"'))
    return manager


def _run(sql: str):  # type: ignore[no-untyped-def]
    async def run() -> None:
        db = engine_finder()
        if db is None:
            raise RuntimeError("No Piccolo engine configured")
        await db.run_ddl(sql)

    return run
