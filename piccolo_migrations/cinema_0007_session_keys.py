"""Sessions named by random keys; admin sessions deleted with their user.

- `refresh_tokens.session_key` (unique): the `sid` of a session's tokens,
  a random value instead of the row id, which SQLite reuses after a delete
  (docs/sessions.md). Existing sessions are deleted: their tokens carry the
  old integer `sid`, which is refused now, so everyone signs in again.
- `admin_sessions.user_id` becomes a foreign key to `users` with ON DELETE
  CASCADE: piccolo_api signs a cookie in as the user with this id, so a row
  outliving its user would sign in as the next account that gets the id.
  Rows of deleted or inactive users are dropped now. PostgreSQL adds the
  constraint; SQLite cannot add one to an existing table, so the table is
  rebuilt (its definition is frozen here, as piccolo_api's SessionsBase
  creates it on SQLite).

Backwards drops `session_key` (tokens then name sessions by id again, so
every session is deleted first); the admin sessions keep their foreign key.
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder

ID = "2026-12-01T00:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "session keys; admin sessions cascade with their user"

_DROP_STALE_ADMIN_SESSIONS = (
    'DELETE FROM "admin_sessions" WHERE "user_id" NOT IN (SELECT u."id" FROM "users" u WHERE u."is_active")'
)

_SQLITE_ADMIN_SESSIONS = """
CREATE TABLE "admin_sessions_new" (
    "id" INTEGER PRIMARY KEY NOT NULL,
    "token" VARCHAR(100) NOT NULL DEFAULT '',
    "user_id" INTEGER NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    "expiry_date" TIMESTAMP NOT NULL
        DEFAULT (datetime(CURRENT_TIMESTAMP, '0 days', '1 hours', '0 minutes', '0 seconds')),
    "max_expiry_date" TIMESTAMP NOT NULL
        DEFAULT (datetime(CURRENT_TIMESTAMP, '7 days', '0 hours', '0 minutes', '0 seconds'))
)
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cinema", description=DESCRIPTION)

    async def session_keys() -> None:
        db = _engine()
        await db.run_ddl('DELETE FROM "refresh_tokens"')
        await db.run_ddl(
            """ALTER TABLE "refresh_tokens" ADD COLUMN "session_key" VARCHAR(64) NOT NULL DEFAULT ''"""
        )
        await db.run_ddl(
            'CREATE UNIQUE INDEX IF NOT EXISTS "refresh_tokens_session_key" ON "refresh_tokens" ("session_key")'
        )

    async def admin_sessions_cascade() -> None:
        db = _engine()
        await db.run_ddl(_DROP_STALE_ADMIN_SESSIONS)
        if db.engine_type == "postgres":
            await db.run_ddl(
                'ALTER TABLE "admin_sessions" DROP CONSTRAINT IF EXISTS "admin_sessions_user_id_fkey"'
            )
            await db.run_ddl(
                'ALTER TABLE "admin_sessions" ADD CONSTRAINT "admin_sessions_user_id_fkey" '
                'FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE'
            )
        else:
            await db.run_ddl(_SQLITE_ADMIN_SESSIONS)
            await db.run_ddl(
                'INSERT INTO "admin_sessions_new" ("id", "token", "user_id", "expiry_date", "max_expiry_date") '
                'SELECT "id", "token", "user_id", "expiry_date", "max_expiry_date" FROM "admin_sessions"'
            )
            await db.run_ddl('DROP TABLE "admin_sessions"')
            await db.run_ddl('ALTER TABLE "admin_sessions_new" RENAME TO "admin_sessions"')
            await db.run_ddl(
                'CREATE UNIQUE INDEX IF NOT EXISTS "admin_sessions_token" ON "admin_sessions" ("token")'
            )
        await db.run_ddl(
            'CREATE INDEX IF NOT EXISTS "admin_sessions_user_id" ON "admin_sessions" ("user_id")'
        )

    async def drop_session_keys() -> None:
        db = _engine()
        await db.run_ddl('DELETE FROM "refresh_tokens"')
        await db.run_ddl('DROP INDEX IF EXISTS "refresh_tokens_session_key"')
        await db.run_ddl('ALTER TABLE "refresh_tokens" DROP COLUMN "session_key"')

    manager.add_raw(session_keys)
    manager.add_raw(admin_sessions_cascade)
    manager.add_raw_backwards(drop_session_keys)
    return manager


def _engine() -> Engine[Any]:
    """The project's engine, found as Piccolo finds it (piccolo_conf), not through the application."""
    db = engine_finder()
    if db is None:
        raise RuntimeError("No Piccolo engine configured")
    return db
