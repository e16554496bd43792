"""Seed the three user groups (USER, MODERATOR, ADMIN)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-29T00:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "seed user groups"


async def forwards() -> MigrationManager:
    from cinema.accounts.tables import GroupName, UserGroup

    manager = MigrationManager(migration_id=ID, app_name="cinema", description=DESCRIPTION)

    async def seed() -> None:
        existing = {row["name"] for row in await UserGroup.select(UserGroup.name).run()}
        missing = [UserGroup(name=g.value) for g in GroupName if g.value not in existing]
        if missing:
            await UserGroup.insert(*missing).run()

    async def unseed() -> None:
        await UserGroup.delete(force=True).run()

    manager.add_raw(seed)
    manager.add_raw_backwards(unseed)
    return manager
