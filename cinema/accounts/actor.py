"""Who is acting: the roles, the caller every service decides access for, and the operator.

A service that decides access takes `actor: CurrentUser` and decides itself
(with `require_group` or its own ownership rule), so the API, the CLI and the
admin cannot answer differently. Doors only authenticate: the API builds the
actor from the Bearer token (cinema/api/deps.py), the CLI acts as `OPERATOR`,
background jobs as `SYSTEM`.

This module imports only the accounts errors (which import only cinema.errors),
so any layer can take a `CurrentUser` without depending on how sessions work.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cinema.accounts.errors import RoleRequired


class GroupName(enum.StrEnum):
    """Roles, lowest first: each has every right of the ones before it."""

    USER = "USER"
    MODERATOR = "MODERATOR"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        return list(GroupName).index(self)

    @property
    def admin_flag(self) -> bool:
        """`users.admin` for this group: MODERATOR and ADMIN may sign in to Piccolo Admin."""
        return self is not GroupName.USER

    @property
    def superuser_flag(self) -> bool:
        """`users.superuser` for this group: only ADMIN."""
        return self is GroupName.ADMIN


#: The id of an actor that is not a user account (`OPERATOR`, `SYSTEM`). Row ids
#: start at 1 (cinema/ids.py), so no user, cart, order or comment belongs to it
#: and a "not your own account" check never matches it by accident.
NO_USER_ID = 0


@dataclass(frozen=True)
class CurrentUser:
    """The caller a service acts for: a signed-in user, or the operator/system (id 0)."""

    id: int
    email: str
    group: GroupName
    #: The session's key (the tokens' `sid`); empty for the operator and the system.
    session_id: str

    def has_group(self, minimum: GroupName) -> bool:
        """True when the caller's role is `minimum` or above (USER < MODERATOR < ADMIN)."""
        return self.group.rank >= minimum.rank

    @property
    def is_user(self) -> bool:
        """True for a signed-in user account, False for `OPERATOR` and `SYSTEM`."""
        return self.id != NO_USER_ID

    def is_self(self, user_id: int) -> bool:
        """True when `user_id` is the caller's own account (never for the operator)."""
        return self.is_user and self.id == user_id


#: Whoever runs the `cinema` CLI: it has shell access to the deployment (and its
#: database URL and secrets), so it already holds every right; it acts as ADMIN
#: and owns nothing.
OPERATOR = CurrentUser(id=NO_USER_ID, email="operator@cli", group=GroupName.ADMIN, session_id="")

#: Background jobs and scheduled maintenance (the taskiq worker): ADMIN rights,
#: owns nothing. A separate value from `OPERATOR` so logs tell them apart.
SYSTEM = CurrentUser(id=NO_USER_ID, email="system@worker", group=GroupName.ADMIN, session_id="")


def require_group(actor: CurrentUser, minimum: GroupName) -> None:
    """Raise `RoleRequired` (403 `permission_denied`) unless `actor` is `minimum` or above."""
    if not actor.has_group(minimum):
        raise RoleRequired(required_group=minimum.value)


def require_self_or_group(actor: CurrentUser, owner_id: int, minimum: GroupName) -> None:
    """Raise `RoleRequired` unless `actor` is the owner `owner_id` or `minimum` or above."""
    if not (actor.is_self(owner_id) or actor.has_group(minimum)):
        raise RoleRequired(required_group=minimum.value)
