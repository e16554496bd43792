"""First-run accounts: make sure a staff account exists (used by `cinema demo`)."""

from __future__ import annotations

from cinema.accounts import passwords
from cinema.accounts.actor import GroupName
from cinema.accounts.tables import User, UserGroup
from cinema.db import transaction


async def ensure_user(email: str, password: str, group: GroupName) -> bool:
    """Create an active user in `group` unless the email exists. Returns True when created.

    Raises `ValidationFailed` when the password breaks the rules.
    """
    passwords.validate(password)
    async with transaction():
        if await User.exists().where(User.email == User.normalize_email(email)).run():
            return False
        group_row = await UserGroup.select(UserGroup.id).where(UserGroup.name == group.value).first().run()
        assert group_row is not None, "groups are seeded by migration 0002"
        staff = group is not GroupName.USER
        await User.create(
            email,
            password,
            int(group_row["id"]),
            active=True,
            admin=staff,
            superuser=group is GroupName.ADMIN,
        )
    return True
