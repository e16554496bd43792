"""Two ADMINs demoting or deactivating each other at the same moment must not leave zero ADMINs."""

from __future__ import annotations

import asyncio

import pytest

from cinema.accounts.actor import GroupName
from cinema.accounts.tables import User

pytestmark = pytest.mark.postgres_only  # SQLite's BEGIN IMMEDIATE serialises the two already


async def active_admins() -> int:
    return await User.count().where((User.group.name == GroupName.ADMIN.value) & User.active.eq(True)).run()


@pytest.mark.parametrize("action", ["demote", "deactivate"])
async def test_admins_removing_each_other_at_once_leave_one(client, make_user, action) -> None:
    survivor = await make_user(group=GroupName.ADMIN)
    for _ in range(6):
        other = await make_user(group=GroupName.ADMIN)
        assert await active_admins() == 2

        def remove(target: int, caller_headers: dict[str, str]):
            if action == "demote":
                return client.patch(
                    f"/accounts/users/{target}/group", headers=caller_headers, json={"group": "USER"}
                )
            return client.post(f"/accounts/users/{target}/deactivate", headers=caller_headers)

        first, second = await asyncio.gather(
            remove(other.id, survivor.headers), remove(survivor.id, other.headers)
        )

        assert sorted([first.status_code, second.status_code]) != [200, 200]
        assert await active_admins() == 1
        [row] = (
            await User.select(User.id)
            .where((User.group.name == GroupName.ADMIN.value) & User.active.eq(True))
            .run()
        )
        survivor = survivor if row["id"] == survivor.id else other
