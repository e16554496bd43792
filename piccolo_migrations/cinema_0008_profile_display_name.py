"""`user_profiles.display_name`: the public name a user chooses (docs/privacy.md).

Nullable, no default: users without one appear under a neutral handle.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T00:07:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "profile display name"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cinema", description=DESCRIPTION)
    manager.add_column(
        table_class_name="UserProfile",
        tablename="user_profiles",
        column_name="display_name",
        db_column_name="display_name",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 50,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
