"""Who is acting in the admin, and what their role lets them open (docs/admin.md).

The group is read from the database on every request (not from the session),
so a demotion takes effect on the next click, whatever the admin session says.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.accounts.tables import User

_SCOPE_KEY = "cinema_admin_staff"


class Access(enum.IntEnum):
    """What a role may do with a table: nothing, look, or write (through the table's door)."""

    NONE = 0
    READ = 1
    WRITE = 2


@dataclass(frozen=True)
class Staff:
    """The signed-in person: the id the services record as the actor, and their role."""

    id: int
    group: GroupName

    def at_least(self, minimum: GroupName) -> bool:
        return self.group.rank >= minimum.rank

    @property
    def actor(self) -> CurrentUser:
        """This person as the services' `actor`: they decide with the same role as through the API."""
        return CurrentUser(id=self.id, email="", group=self.group, session_id="")


async def staff_of(request: Request) -> Staff | None:
    """The signed-in MODERATOR or ADMIN, read fresh once per request; None for anyone else.

    An account that was deactivated or moved to USER after signing in is None.
    """
    if _SCOPE_KEY in request.scope:
        cached: Staff | None = request.scope[_SCOPE_KEY]
        return cached
    user = getattr(request.user, "user", None)
    staff: Staff | None = None
    if user is not None:
        row = (
            await User.select(User.active.as_alias("active"), User.group.name.as_alias("group_name"))
            .where(User.id == user.id)
            .first()
            .run()
        )
        if row is not None and row["active"]:
            group = GroupName(row["group_name"])
            if group.rank >= GroupName.MODERATOR.rank:
                staff = Staff(id=int(user.id), group=group)
    request.scope[_SCOPE_KEY] = staff
    return staff


async def require_staff(request: Request, minimum: GroupName = GroupName.MODERATOR) -> Staff:
    """The signed-in staff member with at least `minimum`'s role, or 403."""
    staff = await staff_of(request)
    if staff is None or not staff.at_least(minimum):
        raise HTTPException(status_code=403, detail=f"Only {minimum.value} and above may do this.")
    return staff
