"""The movie list: `GET /movies`, the entity movie lists, `/favorites` and `/purchases`.

One query builder serves them all; a scope (favorites, purchases) or an entity
is one more restriction in the same WHERE clause. Whatever `per_page` is, a
list costs exactly ONE SQL statement, on both engines:

- with filters (any WHERE): `hits AS MATERIALIZED (SELECT id, <sort column>
  FROM movies m WHERE ...)` finds the matching movies once; the total is
  `count(*)` of it, the page's ids are cut from it (ORDER BY the sort column,
  id; LIMIT/OFFSET) and joined back to `movies`. The filters, including the
  search (a UNION of trigram-index lookups), run once per request;
- without filters: the total is `count(*)` of `movies` and the page comes
  straight from the (column, id) sort index (an index scan stopped at LIMIT):
  materialising the whole catalog would sort it all;
- either way the total is the outer row (`total LEFT JOIN page`), so a page
  past the end still returns one row (NULL movie columns) with the true total;
- one scalar subquery per page row aggregates its genres to JSON; it runs only
  for the page's rows, and the certification is joined.

The card's and the detail's own values are the movie's scalars
(`schemas.MOVIE_SCALARS`), selected and read by `Scalar`, so a new movie
field reaches both without another edit here (docs/architecture.md,
"Adding a field to movies").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from piccolo.columns import Boolean, Numeric, Real, Timestamptz
from pydantic import TypeAdapter

from cinema import sql
from cinema.accounts.actor import CurrentUser
from cinema.catalog.schemas import (
    MOVIE_SCALARS,
    PRICE_MAX,
    ListScope,
    MovieFilters,
    MovieListItem,
    SortKey,
)
from cinema.catalog.tables import Movie
from cinema.db import Row
from cinema.money import CENT, ZERO
from cinema.pagination import Page, PageParams, envelope
from cinema.storage import public_media_url

#: sort key -> column of `movies` (a fixed whitelist: the only identifiers formatted into SQL).
SORT_COLUMNS = {
    "name": "name",
    "year": "year",
    "imdb": "imdb",
    "votes": "votes",
    "price": "price",
    "popularity": "popularity",
    "created": "created_at",
}


#: Python conversions of the values a driver hands back, by column type (SQLite
#: returns NUMERIC as float or text, booleans as 0/1, times as text).
_READERS: dict[type, Callable[[Any], Any]] = {
    Numeric: sql.amount,
    Timestamptz: sql.as_datetime,
    Boolean: bool,
}


@dataclass(frozen=True)
class Scalar:
    """One of the movie's own values (`MOVIE_SCALARS`) as the lists and the detail select and read it."""

    name: str
    #: The name of the selected value in a result row: `<name>_shown` for a REAL column,
    #: selected as shown (`sql.real`) while it is compared and sorted raw.
    key: str
    real: bool
    #: The conversion of a non-null value the driver hands back (None: used as it is).
    read: Callable[[Any], Any] | None

    @classmethod
    def of(cls, name: str) -> Scalar:
        column = Movie._meta.get_column_by_name(name)
        real = isinstance(column, Real)
        return cls(name, f"{name}_shown" if real else name, real, _READERS.get(type(column)))

    def select(self, alias: str) -> str:
        """The select-list entry of this value from the movie row aliased `alias`."""
        column = f"{alias}.{self.name}"
        return f"{sql.real(column)} AS {self.key}" if self.real else column


def read_scalars(row: Row, scalars: tuple[Scalar, ...], into: dict[str, Any]) -> None:
    """Put the JSON-ready value of each scalar from a result row into `into` (null stays null).

    A plain loop over the fields, without a call per value: it runs for every row of every page.
    """
    for scalar in scalars:
        value = row[scalar.key]
        read = scalar.read
        into[scalar.name] = value if value is None or read is None else read(value)


#: The scalars on a card (`MovieListItem`), and those only the detail shows.
CARD_SCALARS = tuple(Scalar.of(name) for name in MOVIE_SCALARS if name in MovieListItem.model_fields)
DETAIL_SCALARS = tuple(Scalar.of(name) for name in MOVIE_SCALARS if name not in MovieListItem.model_fields)

#: The page's columns, raw (the page is sorted by the stored values); the outer
#: SELECT adds the REAL ones as shown (`Scalar.select`).
_PAGE_COLUMNS = ", ".join(
    [
        "m.id",
        "CAST(m.uuid AS TEXT) AS uuid",
        *(f"m.{scalar.name}" for scalar in CARD_SCALARS),
        "m.certification_id, m.likes, m.dislikes, m.ratings_count, m.ratings_sum, "
        "m.comments_count, m.popularity, m.created_at",
    ]
)


def search_sql(term: str) -> tuple[str, list[Any]]:
    """A SELECT of the ids of movies whose title, description, a star's or a director's name
    contains `term` (case-insensitive), and its bound values."""
    op = sql.like()
    pattern = sql.like_pattern(term)
    # A UNION of one index-served lookup per column rather than ORs: PostgreSQL
    # then uses each column's trigram index, where an OR of the two movie
    # columns makes it scan the table (at 100k movies: ~20 ms against ~250 ms).
    return (
        f"SELECT id FROM movies WHERE name {op} {{}} ESCAPE '\\' "  # noqa: S608
        f"UNION SELECT id FROM movies WHERE description {op} {{}} ESCAPE '\\' "
        "UNION SELECT ms.movie_id FROM movie_stars ms JOIN stars s ON s.id = ms.star_id "
        f"WHERE s.name {op} {{}} ESCAPE '\\' "
        "UNION SELECT md.movie_id FROM movie_directors md JOIN directors d ON d.id = md.director_id "
        f"WHERE d.name {op} {{}} ESCAPE '\\'"
    ), [pattern] * 4


def _whole_cents(bound: Decimal, rounding: str) -> Decimal:
    """A price bound in whole cents, clamped to 0..PRICE_MAX + 1.

    Prices have two places, so a minimum rounded up (9.991 -> 10.00: no price
    lies between) and a maximum rounded down select the same movies as the exact bound.
    It also keeps the bound encodable: asyncpg refuses a Decimal like
    `1e-999999999` (exponent beyond NUMERIC's range).
    """
    clamped = min(max(bound, ZERO), PRICE_MAX + 1)
    return clamped.quantize(CENT, rounding=rounding)


#: Each filter of `MovieFilters` but `search` and `sort`: its condition over alias `m`,
#: with the filter's value bound once. `imdb` is REAL (float4 on PostgreSQL):
#: compared at that precision, so that imdb_max=8.3 includes a stored 8.3.
FILTER_CONDITIONS = {
    "year": "m.year = {}",
    "year_from": "m.year >= {}",
    "year_to": "m.year <= {}",
    "imdb_min": "m.imdb >= CAST({} AS REAL)",
    "imdb_max": "m.imdb <= CAST({} AS REAL)",
    "price_min": "m.price >= {}",
    "price_max": "m.price <= {}",
    "certification_id": "m.certification_id = {}",
    "genre_id": "m.id IN (SELECT movie_id FROM movie_genres WHERE genre_id = {})",
    "star_id": "m.id IN (SELECT movie_id FROM movie_stars WHERE star_id = {})",
    "director_id": "m.id IN (SELECT movie_id FROM movie_directors WHERE director_id = {})",
}
#: Price bounds compare in whole cents (`_whole_cents`), rounded toward the inside of the range.
_PRICE_ROUNDING = {"price_min": ROUND_CEILING, "price_max": ROUND_FLOOR}


@dataclass(frozen=True)
class Owner:
    """Restricts a list to one user's favorites or purchases."""

    scope: ListScope
    user_id: int


def where_clause(filters: MovieFilters, owner: Owner | None = None) -> tuple[str, list[Any]]:
    """`WHERE ...` over alias `m` for the filters (or "" when none), and its bound values."""
    clauses: list[str] = []
    args: list[Any] = []

    def add(clause: str, *values: Any) -> None:
        clauses.append(clause)
        args.extend(values)

    term = (filters.search or "").strip()
    if term:
        matches, patterns = search_sql(term)
        add(f"m.id IN ({matches})", *patterns)
    for name, condition in FILTER_CONDITIONS.items():
        value = getattr(filters, name)
        if value is not None:
            rounding = _PRICE_ROUNDING.get(name)
            add(condition, value if rounding is None else _whole_cents(value, rounding))
    if owner is not None:
        table = "favorites" if owner.scope is ListScope.FAVORITES else "purchases"
        add(f"m.id IN (SELECT movie_id FROM {table} WHERE user_id = {{}})", owner.user_id)  # noqa: S608
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), args


def order_by(sort: SortKey | None, alias: str) -> str:
    """`ORDER BY <column> <dir>, id <dir>` (default: id ascending, the catalog's insertion order)."""
    if sort is None:
        return f"ORDER BY {alias}.id ASC"
    key = sort.value
    direction = "DESC" if key.startswith("-") else "ASC"
    column = SORT_COLUMNS[key.lstrip("-")]
    return f"ORDER BY {alias}.{column} {direction}, {alias}.id {direction}"


def poster_key_sql(movie_ref: str) -> str:
    """A scalar subquery: the storage key of the movie's ready poster, or NULL.

    Served by the partial unique index `media_assets_ready` (movie_id, kind), so
    it is one index probe per page row; the URL is made from the key without
    signing anything (`cinema.storage.public_media_url`, docs/media.md).
    """
    return (
        "(SELECT pa.storage_key FROM media_assets pa "  # noqa: S608 - fixed fragments only
        f"WHERE pa.movie_id = {movie_ref} AND pa.kind = 'poster' AND pa.status = 'ready')"
    )


def movie_card(row: Row) -> dict[str, Any]:
    """A movie row as the JSON-ready `MovieListItem` shape (values as the API serialises them).

    The detail (`movies.get_movie_data`) starts from it too. The row carries the
    card's columns (the REAL ones as shown, `Scalar`), `certification_name`,
    `genres` (`sql.refs_sql`) and `poster_key`.
    """
    card: dict[str, Any] = {"id": row["id"], "uuid": row["uuid"]}
    read_scalars(row, CARD_SCALARS, card)
    card["certification"] = {"id": row["certification_id"], "name": row["certification_name"]}
    card["genres"] = sql.refs(row["genres"])
    card["likes"] = row["likes"]
    card["dislikes"] = row["dislikes"]
    card["average_rating"] = sql.average(row["ratings_sum"], row["ratings_count"])
    card["ratings_count"] = row["ratings_count"]
    card["comments_count"] = row["comments_count"]
    card["popularity"] = row["popularity"]
    card["poster_url"] = public_media_url(row["poster_key"])
    return card


def _sort_key(sort: SortKey | None) -> tuple[str, str]:
    """(column of `movies`, direction) a list is sorted by, before the id tie-break."""
    if sort is None:
        return "id", "ASC"
    return SORT_COLUMNS[sort.value.lstrip("-")], "DESC" if sort.value.startswith("-") else "ASC"


def list_sql(
    filters: MovieFilters,
    params: PageParams,
    owner: Owner | None = None,
    *,
    within: tuple[str, list[Any]] | None = None,
) -> tuple[str, list[Any]]:
    """The one statement of a list page (see the module docstring) and its bound values.

    `within` is one more condition over alias `m` and its bound values, from a
    layer above the catalog (the library: the caller's live entitlements).
    """
    where, args = where_clause(filters, owner)
    if within is not None:
        where = f"{where} AND {within[0]}" if where else f"WHERE {within[0]}"
        args = [*args, *within[1]]
    # An absurd page number is simply past the end (and must not overflow OFFSET's bigint).
    window = [params.per_page, params.offset]
    column, direction = _sort_key(filters.sort)
    if where:
        ctes = (
            f"hits AS MATERIALIZED (SELECT m.id, m.{column} AS k FROM movies m {where}), "  # noqa: S608
            "total AS (SELECT count(*) AS n FROM hits), "
            f"ids AS (SELECT h.id FROM hits h ORDER BY h.k {direction}, h.id {direction} "
            "LIMIT {} OFFSET {}), "
            f"page AS (SELECT {_PAGE_COLUMNS} FROM ids JOIN movies m ON m.id = ids.id)"
        )
        values = [*args, *window]
    else:
        ctes = (
            "total AS (SELECT count(*) AS n FROM movies m), "  # noqa: S608 - fixed fragments only
            f"page AS (SELECT {_PAGE_COLUMNS} FROM movies m {order_by(filters.sort, 'm')} "
            "LIMIT {} OFFSET {})"
        )
        values = window
    statement = (
        f"WITH {ctes} "  # noqa: S608 - fixed fragments only
        "SELECT t.n AS total, p.*, c.name AS certification_name, "
        f"{_shown('p')}"
        f"{sql.refs_sql('movie_genres', 'genres', 'genre_id', 'p.id')} AS genres, "
        f"{poster_key_sql('p.id')} AS poster_key "
        "FROM total t LEFT JOIN page p ON 1 = 1 "
        "LEFT JOIN certifications c ON c.id = p.certification_id "
        f"{order_by(filters.sort, 'p')}"
    )
    return statement, values


def _shown(alias: str) -> str:
    """The REAL card scalars as shown, each followed by a comma (or "" when there are none)."""
    return "".join(f"{scalar.select(alias)}, " for scalar in CARD_SCALARS if scalar.real)


async def list_movies_data(
    filters: MovieFilters,
    params: PageParams,
    owner: Owner | None = None,
    *,
    within: tuple[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """A page of movies matching `filters`, sorted by `filters.sort`; one SQL statement.

    Returns the API envelope (`items`, `page`, `per_page`, `total`, `pages`) as
    JSON-ready values, the `Page[MovieListItem]` shape: the API encodes it as it
    is, without a validation pass over values the database has already typed
    (validating and then dumping models costs a quarter of a list's CPU).
    A page past the end has no items and the true total. `within`: see `list_sql`.
    """
    statement, args = list_sql(filters, params, owner, within=within)
    rows = await sql.fetch(statement, *args)
    total = int(rows[0]["total"]) if rows else 0
    return envelope([movie_card(row) for row in rows if row["id"] is not None], params, total)


async def list_favorites_data(
    actor: CurrentUser, filters: MovieFilters, params: PageParams
) -> dict[str, Any]:
    """`list_movies_data` over the caller's favorites (`GET /favorites`)."""
    return await list_movies_data(filters, params, Owner(ListScope.FAVORITES, actor.id))


async def list_purchases_data(
    actor: CurrentUser, filters: MovieFilters, params: PageParams
) -> dict[str, Any]:
    """`list_movies_data` over the movies the caller owns (`GET /purchases`)."""
    return await list_movies_data(filters, params, Owner(ListScope.PURCHASES, actor.id))


_PAGE: TypeAdapter[Page[MovieListItem]] = TypeAdapter(Page[MovieListItem])


async def list_movies(filters: MovieFilters, params: PageParams) -> Page[MovieListItem]:
    """`list_movies_data` as a validated `Page[MovieListItem]` (for Python callers: the CLI)."""
    return _PAGE.validate_python(await list_movies_data(filters, params))
