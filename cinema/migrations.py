"""The schema's migrations: apply them, and tell which are still pending.

Sits above the domains: Piccolo's app config (`cinema.piccolo_app`) lists every
domain's tables, so the shared db layer cannot import it.
"""

from __future__ import annotations

import functools


async def migrate() -> list[str]:
    """Apply every pending migration of the `cinema` app (idempotent).

    Returns the IDs of the migrations applied now (empty when up to date).
    Piccolo's own progress printout is captured, not shown: callers report.
    Raises RuntimeError when a migration fails.
    """
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import ForwardsMigrationManager

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = await ForwardsMigrationManager(app_name="cinema").run()
    if not result.success:
        raise RuntimeError(f"Migration failed: {result.message}\n{printed.getvalue()}")
    return [
        line.split("[forwards]")[0].strip(" -")
        for line in printed.getvalue().splitlines()
        if "[forwards]" in line
    ]


@functools.cache
def shipped_migrations() -> frozenset[str]:
    """IDs of the migrations shipped with this code (`piccolo_migrations/`), read once per process."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    from cinema.piccolo_app import APP_CONFIG

    return frozenset(BaseMigrationManager().get_migration_modules(str(APP_CONFIG.migrations_folder_path)))


async def pending_migrations() -> list[str]:
    """Shipped migrations the database has not applied yet, oldest first (all of them on an empty database).

    Piccolo records each applied migration in its `migration` table. Migrations
    applied by a newer release do not count: expand-first migrations keep an
    older release working on a newer schema.
    """
    from piccolo.apps.migrations.tables import Migration

    if not await Migration.table_exists().run():
        return sorted(shipped_migrations())
    applied = set(await Migration.get_migrations_which_ran(app_name="cinema"))
    return sorted(shipped_migrations() - applied)
