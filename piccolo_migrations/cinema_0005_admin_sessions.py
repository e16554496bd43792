"""Piccolo Admin browser sessions (`admin_sessions`, piccolo_api's SessionsBase).

Not part of the auto-generated schema migration: the table class lives in
`cinema.admin` (it belongs to the admin, not to a domain), so it is created here.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T00:04:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "admin sessions"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cinema", description=DESCRIPTION)

    async def create() -> None:
        from cinema.admin import AdminSession
        from cinema.db import engine

        await AdminSession.create_table(if_not_exists=True).run()
        await engine().run_ddl(
            'CREATE UNIQUE INDEX IF NOT EXISTS "admin_sessions_token" ON "admin_sessions" ("token")'
        )

    async def drop() -> None:
        from cinema.admin import AdminSession

        await AdminSession.alter().drop_table(if_exists=True).run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
