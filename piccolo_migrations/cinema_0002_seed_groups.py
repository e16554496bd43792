"""Seed the three user groups (USER, MODERATOR, ADMIN).

The groups and the table are frozen here as they were when this migration was
written: a migration never imports the application, whose code moves on.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Varchar
from piccolo.table import Table

ID = "2026-11-29T00:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "seed user groups"

#: The roles, lowest first.
GROUPS = ("USER", "MODERATOR", "ADMIN")


class UserGroup(Table, tablename="user_groups"):
    name = Varchar(length=20, unique=True)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cinema", description=DESCRIPTION)

    async def seed() -> None:
        existing = {row["name"] for row in await UserGroup.select(UserGroup.name).run()}
        missing = [UserGroup(name=name) for name in GROUPS if name not in existing]
        if missing:
            await UserGroup.insert(*missing).run()

    async def unseed() -> None:
        await UserGroup.delete(force=True).run()

    manager.add_raw(seed)
    manager.add_raw_backwards(unseed)
    return manager
