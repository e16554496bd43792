"""The baseline: a minimal Starlette + asyncpg app answering the benchmarked reads.

Each endpoint is ONE hand-written SQL statement on an asyncpg pool, and its
JSON is the product's JSON for the same request (the bench compares the two
bodies before it measures anything). It is the practical upper bound of this
stack (uvicorn, Starlette, asyncpg, pydantic-core's JSON encoder) on this
machine, the yardstick of issue 7's bars.

- `GET /movies`: `page`, `per_page`, `sort`, `search`, `genre_id`, `year_from`,
  `year_to`, `imdb_min`; the page and its total in one statement: with a
  filter, the matching ids are found once (a MATERIALIZED CTE) and both counted
  and paged from there; without one, the count and an index-ordered page;
- `GET /movies/{id}`: the anonymous detail, with genres, directors and stars;
- `GET /movies/{id}/playback`: verifies the token, then ONE statement checks the
  session, the active user, ownership (or a staff group) and reads the ready
  feature and the caller's position; the URL is signed like the product's;
- `GET /cart`: verifies the Bearer access token (signature, expiry, type, like
  the product), then ONE statement checks the session and the active user and
  reads the cart with its genres.

Environment: `DATABASE_URL` (postgresql://...), `JWT_SECRET_KEY`,
`BENCH_POOL_SIZE` (default 20, the product's pool size).
Run: `uvicorn --factory tests.perf.baseline:create_app`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import asyncpg  # type: ignore[import-untyped]
import jwt
from pydantic_core import to_json
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

#: Sort key -> column (the product's whitelist, `cinema.catalog.queries.SORT_COLUMNS`).
SORT_COLUMNS = {
    "name": "name",
    "year": "year",
    "imdb": "imdb",
    "votes": "votes",
    "price": "price",
    "popularity": "popularity",
    "created": "created_at",
}

_LIST_COLUMNS = (
    "m.id, m.uuid, m.name, m.year, m.time, m.imdb, m.votes, m.meta_score, m.price, m.rental_price, "
    "m.certification_id, "
    "m.likes, m.dislikes, m.ratings_count, m.ratings_sum, m.comments_count, m.popularity"
)

# A movie's related entities as two arrays in join order (ids, names).
_REFS = (
    "LEFT JOIN LATERAL (SELECT array_agg(e.id ORDER BY j.id) AS ids, array_agg(e.name ORDER BY j.id) AS names "
    "FROM {join} j JOIN {table} e ON e.id = j.{fk} WHERE j.movie_id = {movie}) {alias} ON true"
)

_DETAIL_SQL = (
    "SELECT m.id, m.uuid, m.name, m.year, m.time, m.imdb::numeric::float8 AS imdb, m.votes, "
    "m.meta_score::numeric::float8 AS meta_score, m.price, m.rental_price, m.rental_start_days, m.rental_hours, "
    "m.certification_id, c.name AS certification_name, "
    "m.likes, m.dislikes, m.ratings_count, m.ratings_sum, m.comments_count, m.popularity, m.gross, "
    "m.description, m.favorites_count, m.created_at, m.updated_at, "
    "g.ids AS genre_ids, g.names AS genre_names, d.ids AS director_ids, d.names AS director_names, "
    "s.ids AS star_ids, s.names AS star_names "
    "FROM movies m JOIN certifications c ON c.id = m.certification_id "
    + _REFS.format(join="movie_genres", table="genres", fk="genre_id", movie="m.id", alias="g")
    + " "
    + _REFS.format(join="movie_directors", table="directors", fk="director_id", movie="m.id", alias="d")
    + " "
    + _REFS.format(join="movie_stars", table="stars", fk="star_id", movie="m.id", alias="s")
    + " WHERE m.id = $1"
)

_CART_SQL = (
    "SELECT u.id AS user_id, ci.movie_id, ci.offer, m.name, "
    "CASE WHEN ci.offer = 'rent' THEN m.rental_price ELSE m.price END AS price, m.year, ci.added_at, "
    '(SELECT array_agg(g.name ORDER BY g.name COLLATE "C") FROM movie_genres mg '
    "JOIN genres g ON g.id = mg.genre_id WHERE mg.movie_id = ci.movie_id) AS genres "
    "FROM users u LEFT JOIN carts c ON c.user_id = u.id LEFT JOIN cart_items ci ON ci.cart_id = c.id "
    "LEFT JOIN movies m ON m.id = ci.movie_id "
    "WHERE u.id = $1 AND u.is_active AND EXISTS (SELECT 1 FROM refresh_tokens rt "
    "WHERE rt.session_key = $2 AND rt.user_id = u.id AND rt.expires_at > now()) "
    "ORDER BY ci.added_at, ci.id"
)

# The playback checks in one statement: session and active user, the caller's group,
# ownership, the ready feature and the caller's position (docs/media.md).
_PLAYBACK_SQL = (
    "SELECT g.name AS group_name, "
    # A live entitlement, as cinema.entitlements.access.owns_sql writes it (docs/entitlements.md).
    "EXISTS (SELECT 1 FROM entitlements e WHERE e.user_id = u.id AND e.movie_id = m.id "
    "AND e.revoked_at IS NULL AND e.suspended_at IS NULL AND now() BETWEEN e.starts_at "
    "AND COALESCE(e.expires_at, e.start_by, '9999-12-31 23:59:59+00:00')) AS owned, "
    "a.storage_key, a.content_type, a.duration_seconds, "
    "(SELECT w.position_seconds FROM watch_progress w WHERE w.user_id = u.id AND w.movie_id = m.id) AS position "
    "FROM users u JOIN user_groups g ON g.id = u.group_id "
    "JOIN refresh_tokens rt ON rt.user_id = u.id AND rt.session_key = $2 AND rt.expires_at > now() "
    "JOIN movies m ON m.id = $3 "
    "LEFT JOIN media_assets a ON a.movie_id = m.id AND a.kind = 'feature' AND a.status = 'ready' "
    "WHERE u.id = $1 AND u.is_active"
)

_TWO_PLACES = Decimal("0.01")


def _json(body: Any, status: int = 200) -> Response:
    return Response(to_json(body), status_code=status, media_type="application/json")


def _error(status: int, detail: str, code: str) -> Response:
    return _json({"detail": detail, "code": code}, status)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.quantize(_TWO_PLACES):.2f}"


def _refs(ids: list[int] | None, names: list[str] | None) -> list[dict[str, Any]]:
    return [{"id": i, "name": n} for i, n in zip(ids or [], names or [], strict=True)]


def _average(ratings_sum: int, ratings_count: int) -> float | None:
    return round(ratings_sum / ratings_count, 2) if ratings_count else None


def list_sql(params: dict[str, str]) -> tuple[str, list[Any], int, int]:
    """The one statement of `GET /movies` for query `params`: (sql, args, page, per_page).

    Raises ValueError for a bad parameter (answered 422).
    """
    page = int(params.get("page", "1"))
    per_page = int(params.get("per_page", "20"))
    if page < 1 or not 1 <= per_page <= 100:
        raise ValueError("page/per_page out of range")
    clauses: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    term = params.get("search", "").strip()
    if term:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        p = arg(f"%{escaped}%")
        clauses.append(
            # A UNION of one trigram-index lookup per column, like the product: an OR of
            # the two movie columns makes PostgreSQL's generic plan scan the table.
            f"m.id IN (SELECT id FROM movies WHERE name ILIKE {p} ESCAPE '\\' "
            f"UNION SELECT id FROM movies WHERE description ILIKE {p} ESCAPE '\\' "
            f"UNION SELECT ms.movie_id FROM movie_stars ms JOIN stars s ON s.id = ms.star_id "
            f"WHERE s.name ILIKE {p} ESCAPE '\\' "
            f"UNION SELECT md.movie_id FROM movie_directors md JOIN directors d ON d.id = md.director_id "
            f"WHERE d.name ILIKE {p} ESCAPE '\\')"
        )
    if "genre_id" in params:
        clauses.append(
            f"m.id IN (SELECT movie_id FROM movie_genres WHERE genre_id = {arg(int(params['genre_id']))})"
        )
    if "year_from" in params:
        clauses.append(f"m.year >= {arg(int(params['year_from']))}")
    if "year_to" in params:
        clauses.append(f"m.year <= {arg(int(params['year_to']))}")
    if "imdb_min" in params:
        clauses.append(f"m.imdb >= CAST({arg(float(params['imdb_min']))} AS REAL)")
    sort = params.get("sort", "")
    if sort:
        direction = "DESC" if sort.startswith("-") else "ASC"
        column = SORT_COLUMNS[sort.lstrip("-")]  # KeyError -> 422
    else:
        direction, column = "ASC", "id"

    def order_by(key: str, tiebreak: str) -> str:
        """The product's order: the sort column, ties by id in the same direction (default: id)."""
        if column == "id":
            return f"ORDER BY {tiebreak} {direction}"
        return f"ORDER BY {key} {direction}, {tiebreak} {direction}"

    limit, offset = arg(per_page), arg((page - 1) * per_page)
    if clauses:
        # A filter: find the matching ids once, then count them and cut the page from them.
        where = " AND ".join(clauses)
        ctes = (
            f"hits AS MATERIALIZED (SELECT m.id, m.{column} AS k FROM movies m WHERE {where}), "
            "total AS (SELECT count(*) AS n FROM hits), "
            f"ids AS (SELECT h.id FROM hits h {order_by('h.k', 'h.id')} "
            f"LIMIT {limit} OFFSET {offset}), "
            f"page AS (SELECT {_LIST_COLUMNS} FROM ids JOIN movies m ON m.id = ids.id)"
        )
    else:
        # The whole catalog: the count, and the page straight from the sort index.
        ctes = (
            "total AS (SELECT count(*) AS n FROM movies m), "
            f"page AS (SELECT {_LIST_COLUMNS} FROM movies m {order_by(f'm.{column}', 'm.id')} "
            f"LIMIT {limit} OFFSET {offset})"
        )
    statement = (
        f"WITH {ctes} "
        "SELECT t.n AS total, p.id, p.uuid, p.name, p.year, p.time, p.imdb::numeric::float8 AS imdb_value, "
        "p.votes, p.meta_score::numeric::float8 AS meta_score_value, p.price, p.rental_price, p.certification_id, "
        "c.name AS certification_name, p.likes, p.dislikes, p.ratings_count, p.ratings_sum, p.comments_count, "
        "p.popularity, g.ids AS genre_ids, g.names AS genre_names "
        "FROM total t LEFT JOIN page p ON true LEFT JOIN certifications c ON c.id = p.certification_id "
        + _REFS.format(join="movie_genres", table="genres", fk="genre_id", movie="p.id", alias="g")
        + " "
        + order_by(f"p.{column}", "p.id")
    )
    return statement, args, page, per_page


class Baseline:
    """The app's state: one asyncpg pool and the JWT secret."""

    def __init__(self) -> None:
        self.dsn = os.environ["DATABASE_URL"]
        self.secret = os.environ["JWT_SECRET_KEY"]
        # The product's local media URLs (cinema.media.signing): key derived from the JWT secret.
        media_secret = os.environ.get("MEDIA_URL_SECRET") or self.secret
        self.media_key = hmac.new(media_secret.encode(), b"cinema media url v1", hashlib.sha256).digest()
        self.ttl = int(os.environ.get("PLAYBACK_URL_TTL_SECONDS", "3600"))
        self.base_url = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
        self.pool_size = int(os.environ.get("BENCH_POOL_SIZE", "20"))
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "the pool opens in the lifespan"
        return self._pool

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self.pool_size)
        try:
            yield
        finally:
            await self._pool.close()

    async def movies(self, request: Request) -> Response:
        try:
            statement, args, page, per_page = list_sql(dict(request.query_params))
        except (ValueError, KeyError):
            return _error(422, "Bad query parameter.", "validation_error")
        rows = await self.pool.fetch(statement, *args)
        total = int(rows[0]["total"])
        items = [
            {
                "id": r["id"],
                "uuid": r["uuid"],
                "name": r["name"],
                "year": r["year"],
                "time": r["time"],
                "imdb": r["imdb_value"],
                "votes": r["votes"],
                "meta_score": r["meta_score_value"],
                "price": _money(r["price"]),
                "rental_price": _money(r["rental_price"]),
                "certification": {"id": r["certification_id"], "name": r["certification_name"]},
                "genres": _refs(r["genre_ids"], r["genre_names"]),
                "likes": r["likes"],
                "dislikes": r["dislikes"],
                "average_rating": _average(r["ratings_sum"], r["ratings_count"]),
                "ratings_count": r["ratings_count"],
                "comments_count": r["comments_count"],
                "popularity": r["popularity"],
            }
            for r in rows
            if r["id"] is not None
        ]
        pages = -(-total // per_page)
        return _json({"items": items, "page": page, "per_page": per_page, "total": total, "pages": pages})

    async def movie(self, request: Request) -> Response:
        try:
            movie_id = int(request.path_params["movie_id"])
        except ValueError:
            return _error(422, "Bad movie id.", "validation_error")
        r = await self.pool.fetchrow(_DETAIL_SQL, movie_id)
        if r is None:
            return _error(404, "No such movie.", "not_found")
        return _json(
            {
                "id": r["id"],
                "uuid": r["uuid"],
                "name": r["name"],
                "year": r["year"],
                "time": r["time"],
                "imdb": r["imdb"],
                "votes": r["votes"],
                "meta_score": r["meta_score"],
                "price": _money(r["price"]),
                "rental_price": _money(r["rental_price"]),
                "certification": {"id": r["certification_id"], "name": r["certification_name"]},
                "genres": _refs(r["genre_ids"], r["genre_names"]),
                "likes": r["likes"],
                "dislikes": r["dislikes"],
                "average_rating": _average(r["ratings_sum"], r["ratings_count"]),
                "ratings_count": r["ratings_count"],
                "comments_count": r["comments_count"],
                "popularity": r["popularity"],
                "gross": _money(r["gross"]),
                "description": r["description"],
                "rental_start_days": r["rental_start_days"],
                "rental_hours": r["rental_hours"],
                "directors": _refs(r["director_ids"], r["director_names"]),
                "stars": _refs(r["star_ids"], r["star_names"]),
                "favorites_count": r["favorites_count"],
                "created_at": r["created_at"],
                "updated_at": r["updated_at"],
                "my_reaction": None,
                "my_rating": None,
                "is_favorite": None,
                "is_purchased": None,
            }
        )

    def _claims(self, request: Request) -> tuple[int, str] | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"require": ["sub", "sid", "type", "exp", "iat", "jti"]},
            )
            if claims["type"] != "access":
                return None
            return int(claims["sub"]), str(claims["sid"])
        except (jwt.PyJWTError, ValueError, KeyError):
            return None

    async def playback(self, request: Request) -> Response:
        caller = self._claims(request)
        if caller is None:
            return _error(401, "The token is invalid.", "invalid_token")
        try:
            movie_id = int(request.path_params["movie_id"])
        except ValueError:
            return _error(422, "Bad movie id.", "validation_error")
        r = await self.pool.fetchrow(_PLAYBACK_SQL, caller[0], caller[1], movie_id)
        if r is None:
            return _error(404, "No such movie, or the session has ended.", "not_found")
        if r["group_name"] not in ("MODERATOR", "ADMIN") and not r["owned"]:
            return _error(403, "You may not watch this movie.", "not_entitled")
        if r["storage_key"] is None:
            return _error(404, "No video.", "no_media")
        expires = int(time.time()) + self.ttl
        key = r["storage_key"]
        message = f"get\n{key}\n{caller[0]}\n{expires}\n".encode()
        signature = base64.urlsafe_b64encode(hmac.new(self.media_key, message, hashlib.sha256).digest())
        url = (
            f"{self.base_url}/media-stream/{quote(key)}?user={caller[0]}&expires={expires}"
            f"&signature={signature.rstrip(b'=').decode()}"
        )
        position = r["position"]
        return _json(
            {
                "url": url,
                "expires_at": datetime.fromtimestamp(expires, UTC),
                "content_type": r["content_type"],
                "duration_seconds": r["duration_seconds"],
                "resume_position_seconds": float(position) if position else None,
            }
        )

    async def cart(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _error(401, "Not authenticated.", "not_authenticated")
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"require": ["sub", "sid", "type", "exp", "iat", "jti"]},
            )
            if claims["type"] != "access":
                raise jwt.InvalidTokenError("not an access token")
            user_id, session_id = int(claims["sub"]), str(claims["sid"])
        except (jwt.PyJWTError, ValueError, KeyError):
            return _error(401, "The token is invalid.", "invalid_token")
        rows = await self.pool.fetch(_CART_SQL, user_id, session_id)
        if not rows:
            return _error(401, "The session has ended or the account is not active.", "invalid_token")
        items = [
            {
                "movie_id": r["movie_id"],
                "offer": r["offer"],
                "name": r["name"],
                "price": _money(r["price"]),
                "genres": r["genres"] or [],
                "year": r["year"],
                "added_at": r["added_at"],
            }
            for r in rows
            if r["movie_id"] is not None
        ]
        total = sum(
            (r["price"] for r in rows if r["movie_id"] is not None and r["price"] is not None),
            Decimal("0.00"),
        )
        return _json({"user_id": user_id, "items": items, "total": _money(total)})


def create_app() -> Starlette:
    """The baseline ASGI app (configured from the environment)."""
    state = Baseline()
    routes = [
        Route("/movies", state.movies),
        Route("/movies/", state.movies),
        Route("/movies/{movie_id}", state.movie),
        Route("/movies/{movie_id}/playback", state.playback),
        Route("/cart", state.cart),
        Route("/cart/", state.cart),
    ]
    return Starlette(routes=routes, lifespan=state.lifespan)
