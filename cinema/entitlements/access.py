"""The "may watch" rule, decided here and nowhere else (docs/entitlements.md, "Who may watch").

- MODERATOR and ADMIN may always watch (they run the catalog and check uploads);
- a USER may watch a movie while they hold a *live* entitlement to it: a row of
  `entitlements` that is not revoked, not suspended (an open dispute), has
  started (`starts_at <= now`) and has not ended. Its end is `expires_at`, or,
  for a rental not started yet, its `start_by` deadline; with neither it lasts
  forever. `now` itself is inside the window, both ends included.

Inactive and deleted accounts never get here: authentication refuses them
(`cinema.accounts.sessions.authenticate`). Playback, watch progress, the
library and the movie detail ask this module; nothing else repeats the rule.
A service that reads other rows of the same movie in one statement embeds
`owns_sql` there and lets `entitled` decide (one round trip instead of two on
every playback request); one that lists movies filters them with
`may_watch_sql` (continue watching). `now` is always a bound value, never the database's
clock, so both engines compare the same instant and tests can move it.
"""

from __future__ import annotations

from datetime import datetime

from cinema import clock
from cinema.accounts.actor import CurrentUser, GroupName
from cinema.db import fetch
from cinema.entitlements.errors import NotEntitled

__all__ = [
    "FOREVER",
    "NotEntitled",
    "entitled",
    "is_staff",
    "live_sql",
    "may_watch",
    "may_watch_sql",
    "owns_sql",
    "require",
    "require_watch",
]

#: The end of an entitlement with no end, as SQL text both engines compare with a
#: timestamp: PostgreSQL reads it as a `timestamptz`, SQLite compares the text
#: (timestamps are stored as `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`).
FOREVER = "'9999-12-31 23:59:59+00:00'"


def live_sql(alias: str, now_ref: str) -> str:
    """A boolean SQL expression: the entitlement row `alias` gives access at `now_ref`.

    `now_ref` is a `{}` placeholder (or a column); it appears exactly once, so a
    caller binds one value for it. Serves both engines unchanged.
    """
    return (
        f"({alias}.revoked_at IS NULL AND {alias}.suspended_at IS NULL AND {now_ref} BETWEEN "
        f"{alias}.starts_at AND COALESCE({alias}.expires_at, {alias}.start_by, {FOREVER}))"
    )


def owns_sql(user_ref: str, movie_ref: str, now_ref: str) -> str:
    """A boolean SQL expression: the user (`user_ref`) holds a live entitlement to the movie (`movie_ref`).

    Each ref is a column or a `{}` placeholder and appears once, in the order
    user, movie, now. Served by the index "entitlements_user_movie".
    """
    return (
        f"EXISTS (SELECT 1 FROM entitlements own WHERE own.user_id = {user_ref} "  # noqa: S608 - refs are code
        f"AND own.movie_id = {movie_ref} AND {live_sql('own', now_ref)})"
    )


def is_staff(actor: CurrentUser) -> bool:
    """MODERATOR and ADMIN may watch everything."""
    return actor.has_group(GroupName.MODERATOR)


def may_watch_sql(actor: CurrentUser, user_ref: str, movie_ref: str, now_ref: str) -> str:
    """The whole rule for `actor` as one boolean SQL expression, for statements over many movies
    (continue watching).

    Staff may watch everything (`1 = 1 OR ...`, folded away by both engines);
    anyone else what they hold a live entitlement to. The refs appear once
    each, in the order user, movie, now, whoever the actor is, so the bound
    values do not depend on the role.
    """
    return f"({'1 = 1' if is_staff(actor) else '1 = 0'} OR {owns_sql(user_ref, movie_ref, now_ref)})"


def entitled(actor: CurrentUser, owns: object) -> bool:
    """The rule itself, given whether `actor` holds a live entitlement (`owns_sql`'s value)."""
    return is_staff(actor) or bool(owns)


def require(actor: CurrentUser, owns: object) -> None:
    """Raise `NotEntitled` (403 `not_entitled`) unless `entitled(actor, owns)`."""
    if not entitled(actor, owns):
        raise NotEntitled()


_OWNS = f"SELECT {owns_sql('{}', '{}', '{}')} AS owned"


async def may_watch(actor: CurrentUser, movie_id: int, now: datetime | None = None) -> bool:
    """True when `actor` may watch the movie's feature at `now` (default: the clock); one indexed lookup, none for staff."""
    if is_staff(actor):
        return True
    rows = await fetch(_OWNS, actor.id, movie_id, now or clock.utcnow())
    return entitled(actor, rows[0]["owned"])


async def require_watch(actor: CurrentUser, movie_id: int, now: datetime | None = None) -> None:
    """Raise `NotEntitled` (403 `not_entitled`) unless `actor` may watch the movie."""
    if not await may_watch(actor, movie_id, now):
        raise NotEntitled()
