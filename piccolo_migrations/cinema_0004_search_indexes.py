"""Indexes for the catalog's search and sorts.

Search (`GET /movies?search=`) is a case-insensitive substring match over the
title, the description and star and director names. On PostgreSQL `ILIKE
'%term%'` is served by pg_trgm GIN indexes, so a search does not scan the
tables (for terms of 3+ characters). On SQLite it is a plain LIKE: nothing to
create there.

Sorts: every `sort` key is ordered by (column, id) for a stable order; a
composite btree index per key lets both engines read a page in index order
(forwards or backwards) and stop after LIMIT rows instead of sorting the table.
These are created on both engines.
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder

ID = "2026-11-29T00:00:04:000000"
VERSION = "1.38.0"
DESCRIPTION = "catalog search (pg_trgm) and sort indexes"

TRIGRAM_INDEXES = {
    "movies_name_trgm": ("movies", "name"),
    "movies_description_trgm": ("movies", "description"),
    "stars_name_trgm": ("stars", "name"),
    "directors_name_trgm": ("directors", "name"),
}

SORT_INDEXES = {
    "movies_sort_name": ("name", "id"),
    "movies_sort_year": ("year", "id"),
    "movies_sort_imdb": ("imdb", "id"),
    "movies_sort_votes": ("votes", "id"),
    "movies_sort_price": ("price", "id"),
    "movies_sort_popularity": ("popularity", "id"),
    "movies_sort_created": ("created_at", "id"),
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cinema", description=DESCRIPTION)

    async def create() -> None:
        db = _engine()
        for name, columns in SORT_INDEXES.items():
            cols = ", ".join(f'"{c}"' for c in columns)
            await db.run_ddl(f'CREATE INDEX IF NOT EXISTS "{name}" ON "movies" ({cols})')
        if db.engine_type == "postgres":
            await db.run_ddl("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for name, (table, column) in TRIGRAM_INDEXES.items():
                await db.run_ddl(
                    f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ("{column}" gin_trgm_ops)'
                )

    async def drop() -> None:
        db = _engine()
        for name in [*SORT_INDEXES, *TRIGRAM_INDEXES]:
            await db.run_ddl(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager


def _engine() -> Engine[Any]:
    """The project's engine, found as Piccolo finds it (piccolo_conf), not through the application."""
    db = engine_finder()
    if db is None:
        raise RuntimeError("No Piccolo engine configured")
    return db
