"""Continue watching: each viewer's position in a movie's feature (docs/media.md, "Continue watching").

Rules:
- only a caller who may watch the movie (`cinema.entitlements`) may save a
  position, and the movie must have a ready feature (404 `no_media`);
- the position is 0..the feature's duration, else 422 `invalid_position`;
- saving is idempotent and costs at most one write (one upsert), since
  players send it every few seconds;
- clearing sets the position back to 0 but keeps the row, so the history
  still shows the movie was watched;
- continue watching lists movies started (position > 0), not finished
  (below `FINISHED_SHARE` of the duration) and still watchable by the caller
  (`cinema.entitlements`), newest first; the history lists
  every movie watched, newest first.
"""

from __future__ import annotations

import functools
from typing import Any

from cinema.accounts.actor import CurrentUser
from cinema.catalog.errors import MovieNotFound
from cinema.clock import utcnow
from cinema.db import fetch
from cinema.entitlements import access
from cinema.media.errors import InvalidPosition, NoMedia
from cinema.pagination import PageParams, envelope
from cinema.sql import as_datetime
from cinema.storage import public_media_url

#: A movie watched to this share of its duration counts as finished.
FINISHED_SHARE = 0.95

_FEATURE = (
    f"SELECT m.id, a.duration_seconds, {access.owns_sql('{}', 'm.id', '{}')} AS owned FROM movies m "  # noqa: S608
    "LEFT JOIN media_assets a ON a.movie_id = m.id AND a.kind = 'feature' AND a.status = 'ready' WHERE m.id = {}"
)
_UPSERT = (
    "INSERT INTO watch_progress (user_id, movie_id, position_seconds, started_at, updated_at) "
    "VALUES ({}, {}, {}, {}, {}) ON CONFLICT (user_id, movie_id) DO UPDATE SET "
    "position_seconds = excluded.position_seconds, updated_at = excluded.updated_at"
)


async def save_progress(actor: CurrentUser, movie_id: int, position: float) -> float:
    """Remember where `actor` is in the movie's feature; returns the position saved.

    404 for an unknown movie, 403 `not_entitled`, 404 `no_media` without a
    ready feature, 422 `invalid_position` outside 0..duration.
    """
    now = utcnow()
    rows = await fetch(_FEATURE, actor.id, now, movie_id)
    if not rows:
        raise MovieNotFound(movie_id=movie_id)
    access.require(actor, rows[0]["owned"])
    duration = rows[0]["duration_seconds"]
    if duration is None:
        raise NoMedia()
    if not 0 <= position <= float(duration):
        raise InvalidPosition(
            f"The position must be between 0 and the movie's duration ({float(duration):g} s).",
            duration_seconds=float(duration),
        )
    await fetch(_UPSERT, actor.id, movie_id, float(position), now, now)
    return float(position)


async def clear_progress(actor: CurrentUser, movie_id: int) -> None:
    """Forget where `actor` stopped (position 0); the history keeps the movie. No error when none."""
    await fetch(
        "UPDATE watch_progress SET position_seconds = 0 WHERE user_id = {} AND movie_id = {}",
        actor.id,
        movie_id,
    )


def _entry(row: Any) -> dict[str, Any]:
    duration = row["duration_seconds"]
    position = float(row["position_seconds"])
    return {
        "movie_id": row["movie_id"],
        "name": row["name"],
        "year": row["year"],
        "poster_url": public_media_url(row["poster_key"]),
        "position_seconds": position,
        "duration_seconds": None if duration is None else float(duration),
        "finished": duration is not None and position >= FINISHED_SHARE * float(duration),
        "started_at": as_datetime(row["started_at"]),
        "last_watched_at": as_datetime(row["updated_at"]),
    }


@functools.lru_cache(maxsize=8)
def _list_sql(unfinished_only: bool, may_watch: str = "") -> str:
    condition = (
        f"AND w.position_seconds > 0 AND f.duration_seconds IS NOT NULL "
        f"AND w.position_seconds < {FINISHED_SHARE} * f.duration_seconds AND {may_watch} "
        if unfinished_only
        else ""
    )
    return (
        "WITH mine AS MATERIALIZED (SELECT w.movie_id, w.position_seconds, w.started_at, w.updated_at, "  # noqa: S608
        "w.id, f.duration_seconds FROM watch_progress w "
        "LEFT JOIN media_assets f ON f.movie_id = w.movie_id AND f.kind = 'feature' AND f.status = 'ready' "
        f"WHERE w.user_id = {{}} {condition}), "
        "total AS (SELECT count(*) AS n FROM mine), "
        "page AS (SELECT * FROM mine ORDER BY updated_at DESC, id DESC LIMIT {} OFFSET {}) "
        "SELECT t.n AS total, p.*, m.name, m.year, "
        "(SELECT a.storage_key FROM media_assets a WHERE a.movie_id = p.movie_id AND a.kind = 'poster' "
        "AND a.status = 'ready') AS poster_key "
        "FROM total t LEFT JOIN page p ON 1 = 1 LEFT JOIN movies m ON m.id = p.movie_id "
        "ORDER BY p.updated_at DESC, p.id DESC"
    )


_HISTORY_SQL = _list_sql(False)


async def _page(statement: str, args: list[Any], params: PageParams) -> dict[str, Any]:
    rows = await fetch(statement, *args, params.per_page, params.offset)
    total = int(rows[0]["total"]) if rows else 0
    return envelope([_entry(row) for row in rows if row["movie_id"] is not None], params, total)


async def continue_watching(actor: CurrentUser, params: PageParams) -> dict[str, Any]:
    """Movies the caller started, has not finished and may still watch, most recently watched first
    (a `Page[WatchEntry]`)."""
    statement = _list_sql(True, access.may_watch_sql(actor, "w.user_id", "w.movie_id", "{}"))
    return await _page(statement, [actor.id, utcnow()], params)


async def history(user_id: int, params: PageParams) -> dict[str, Any]:
    """Every movie the user watched, with when and how far, most recently watched first."""
    return await _page(_HISTORY_SQL, [user_id], params)
