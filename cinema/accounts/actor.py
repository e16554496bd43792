"""Who is acting: the roles and the authenticated caller every service decides access for.

This module imports nothing else from Cinema, so any layer can take a
`CurrentUser` as its `actor` argument without depending on how sessions work.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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


@dataclass(frozen=True)
class CurrentUser:
    """The authenticated caller of a request."""

    id: int
    email: str
    group: GroupName
    #: The session's key (the tokens' `sid`).
    session_id: str

    def has_group(self, minimum: GroupName) -> bool:
        """True when the caller's role is `minimum` or above (USER < MODERATOR < ADMIN)."""
        return self.group.rank >= minimum.rank
