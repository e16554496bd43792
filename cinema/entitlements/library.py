"""The caller's movies: `GET /library` and the `access` of a movie's detail (docs/entitlements.md, "Library").

A movie may have several live rows (a purchase next to a grant, two timed
grants); the one shown is the best: one without end first (a purchase before
a grant), else the one ending last. The library is the catalog's list (its
filters, sorts and paging, one statement) restricted to the movies the caller
holds a live row to, then one statement for the page's `access`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cinema import clock, sql
from cinema.accounts.actor import CurrentUser
from cinema.catalog import movies, queries
from cinema.catalog.schemas import MovieFilters
from cinema.db import fetch
from cinema.entitlements.access import live_sql
from cinema.entitlements.tables import EntitlementSource
from cinema.pagination import PageParams

#: Best row first: without end, a purchase before a grant before a rental, then the latest end.
_BEST_ORDER = (
    "CASE WHEN e.expires_at IS NULL AND e.start_by IS NULL THEN 0 ELSE 1 END, "
    "CASE e.source WHEN 'purchase' THEN 0 WHEN 'grant' THEN 1 ELSE 2 END, "
    "COALESCE(e.expires_at, e.start_by) DESC, e.id"
)


def _access_sql(count: int) -> str:
    movies_in = ", ".join(["{}"] * count)
    return (
        "SELECT movie_id, source, expires_at, start_by FROM ("  # noqa: S608 - fixed fragments only
        f"SELECT e.movie_id, e.source, e.expires_at, e.start_by, ROW_NUMBER() OVER "
        f"(PARTITION BY e.movie_id ORDER BY {_BEST_ORDER}) AS n FROM entitlements e "
        f"WHERE e.user_id = {{}} AND e.movie_id IN ({movies_in}) AND {live_sql('e', '{}')}"
        ") best WHERE n = 1"
    )


def access_out(row: Any, now: datetime) -> dict[str, Any]:
    """The JSON-ready `AccessOut` of a live row (`source`, `expires_at`, `start_by`)."""
    kind = EntitlementSource(row["source"])
    expires = None if row["expires_at"] is None else sql.as_datetime(row["expires_at"])
    start_by = None if row["start_by"] is None else sql.as_datetime(row["start_by"])
    started = not (kind is EntitlementSource.RENTAL and expires is None)
    end = expires or start_by
    return {
        "kind": kind.value,
        "expires_at": expires,
        "start_by": None if started else start_by,
        "started": started,
        "seconds_left": None if end is None else max(0, int((end - now).total_seconds())),
    }


async def access_of(
    user_id: int, movie_ids: list[int], now: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """The user's best live row per movie, as JSON-ready `AccessOut`s by movie id (absent: none)."""
    if not movie_ids:
        return {}
    now = now or clock.utcnow()
    rows = await fetch(_access_sql(len(movie_ids)), user_id, *movie_ids, now)
    return {int(row["movie_id"]): access_out(row, now) for row in rows}


async def library_data(
    user_id: int, filters: MovieFilters, params: PageParams, now: datetime | None = None
) -> dict[str, Any]:
    """A page of the movies the user may watch now, with the catalog's filters and sorts (`Page[LibraryItem]`)."""
    now = now or clock.utcnow()
    mine = (
        "m.id IN (SELECT e.movie_id FROM entitlements e "  # noqa: S608 - fixed fragments only
        f"WHERE e.user_id = {{}} AND {live_sql('e', '{}')})"
    )
    page = await queries.list_movies_data(filters, params, within=(mine, [user_id, now]))
    found = await access_of(user_id, [item["id"] for item in page["items"]], now)
    for item in page["items"]:
        item["access"] = found.get(item["id"])
    return page


async def movie_detail_data(movie_id: int, caller: CurrentUser | None) -> dict[str, Any]:
    """The catalog's detail of a movie (`MovieDetailOut`), with the signed-in caller's `access`."""
    detail = await movies.get_movie_data(movie_id, caller.id if caller else None)
    detail["access"] = (await access_of(caller.id, [movie_id])).get(movie_id) if caller else None
    return detail
