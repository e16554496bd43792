"""The "may watch" rule, decided here and nowhere else (docs/media.md, "Who may watch").

- MODERATOR and ADMIN may always watch (they run the catalog and check uploads);
- a USER may watch a movie they own: a row in `purchases` (written when the
  order is paid, deleted by a refund, so a refund ends it at once).

Inactive and deleted accounts never get here: authentication refuses them
(`cinema.accounts.sessions.authenticate`). Playback and watch progress ask this
module; nothing else repeats the rule. A service that reads other rows of the
same movie in one statement embeds `owns_sql` there and lets `entitled` decide
(one round trip instead of two on every playback request); one that lists
movies filters them with `may_watch_sql` (continue watching).
"""

from __future__ import annotations

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.db import fetch
from cinema.errors import PermissionDenied


class NotEntitled(PermissionDenied):
    code = "not_entitled"
    default_detail = "You may not watch this movie: buy it first."


def owns_sql(user_ref: str, movie_ref: str) -> str:
    """A boolean SQL expression: the user (`user_ref`, a column or `{}`) owns the movie (`movie_ref`)."""
    return (
        f"EXISTS (SELECT 1 FROM purchases own WHERE own.user_id = {user_ref} "  # noqa: S608 - refs are code
        f"AND own.movie_id = {movie_ref})"
    )


def may_watch_sql(actor: CurrentUser, user_ref: str, movie_ref: str) -> str:
    """The rule for `actor` as a boolean SQL expression, for a statement that filters many movies.

    `user_ref` names the actor's id (a column or `{}`); `movie_ref` the movie.
    Staff may watch everything (`1 = 1`); anyone else what they own.
    """
    if actor.has_group(GroupName.MODERATOR):
        return "1 = 1"
    return owns_sql(user_ref, movie_ref)


def entitled(actor: CurrentUser, owns: object) -> bool:
    """The rule itself, given whether `actor` owns the movie (`owns_sql`'s value)."""
    return actor.has_group(GroupName.MODERATOR) or bool(owns)


def require(actor: CurrentUser, owns: object) -> None:
    """Raise `NotEntitled` (403 `not_entitled`) unless `entitled(actor, owns)`."""
    if not entitled(actor, owns):
        raise NotEntitled()


_OWNS = f"SELECT {owns_sql('{}', '{}')} AS owned"


async def may_watch(actor: CurrentUser, movie_id: int) -> bool:
    """True when `actor` may watch the movie's feature (one indexed lookup, none for staff)."""
    if actor.has_group(GroupName.MODERATOR):
        return True
    rows = await fetch(_OWNS, actor.id, movie_id)
    return entitled(actor, rows[0]["owned"])


async def require_watch(actor: CurrentUser, movie_id: int) -> None:
    """Raise `NotEntitled` (403 `not_entitled`) unless `actor` may watch the movie."""
    if not await may_watch(actor, movie_id):
        raise NotEntitled()
