"""Piccolo Admin browser sessions (`admin_sessions`, piccolo_api's SessionsBase).

Not part of the auto-generated schema migration: the table belongs to the
admin, not to a domain, so it is created here, frozen as piccolo_api's
`SessionsBase` defined it when this migration was written (migration 0007
later makes `user_id` a foreign key that cascades with its user).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Integer, Timestamp, Varchar
from piccolo.columns.defaults.timestamp import TimestampOffset
from piccolo.table import Table

ID = "2026-11-29T00:04:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "admin sessions"


class AdminSession(Table, tablename="admin_sessions"):
    token = Varchar(length=100, null=False, secret=True)
    user_id = Integer(null=False)
    expiry_date = Timestamp(default=TimestampOffset(hours=1), null=False)
    max_expiry_date = Timestamp(default=TimestampOffset(days=7), null=False)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cinema", description=DESCRIPTION)

    async def create() -> None:
        await AdminSession.create_table(if_not_exists=True).run()
        await AdminSession._meta.db.run_ddl(
            'CREATE UNIQUE INDEX IF NOT EXISTS "admin_sessions_token" ON "admin_sessions" ("token")'
        )

    async def drop() -> None:
        await AdminSession.alter().drop_table(if_exists=True).run()

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
