"""The "may watch" rule, decided here and nowhere else (docs/media.md, "Who may watch").

- MODERATOR and ADMIN may always watch (they run the catalog and check uploads);
- a USER may watch a movie they own: a row in `purchases` (written when the
  order is paid, deleted by a refund, so a refund ends it at once).

Inactive and deleted accounts never get here: authentication refuses them
(`cinema.accounts.sessions.authenticate`). Playback, watch progress and the
movie detail ask this module; nothing else repeats the rule.
"""

from __future__ import annotations

from cinema.accounts.sessions import CurrentUser
from cinema.accounts.tables import GroupName
from cinema.db import fetch
from cinema.errors import PermissionDenied


class NotEntitled(PermissionDenied):
    code = "not_entitled"
    default_detail = "You may not watch this movie: buy it first."


_OWNS = "SELECT 1 AS owned FROM purchases WHERE user_id = {} AND movie_id = {}"


async def may_watch(actor: CurrentUser, movie_id: int) -> bool:
    """True when `actor` may watch the movie's feature (one indexed lookup, none for staff)."""
    if actor.has_group(GroupName.MODERATOR):
        return True
    return bool(await fetch(_OWNS, actor.id, movie_id))


async def require_watch(actor: CurrentUser, movie_id: int) -> None:
    """Raise `NotEntitled` (403 `not_entitled`) unless `actor` may watch the movie."""
    if not await may_watch(actor, movie_id):
        raise NotEntitled()
