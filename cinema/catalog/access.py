"""Who may change the catalog (docs/api.md, "Catalog"): MODERATOR and above, whichever door.

Reading the catalog is open to anyone; every write service (movies, entities,
links) asks `require_moderator(actor)` first, before looking anything up, so a
caller without the role learns nothing about which rows exist.
"""

from __future__ import annotations

from cinema.accounts.actor import CurrentUser, GroupName, require_group

#: The lowest role that may write the catalog.
CATALOG_WRITER = GroupName.MODERATOR


def require_moderator(actor: CurrentUser) -> None:
    """Raise `RoleRequired` (403 `permission_denied`) unless `actor` is MODERATOR or above."""
    require_group(actor, CATALOG_WRITER)
