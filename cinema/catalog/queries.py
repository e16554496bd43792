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
  straight from the (column, id) sort index of migration 0004 (an index scan
  stopped at LIMIT): materialising the whole catalog would sort it all;
- either way the total is the outer row (`total LEFT JOIN page`), so a page
  past the end still returns one row (NULL movie columns) with the true total;
- one scalar subquery per page row aggregates its genres to JSON; it runs only
  for the page's rows, and the certification is joined.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from pydantic import TypeAdapter

from cinema import sql
from cinema.catalog.schemas import PRICE_MAX, ListScope, MovieFilters, MovieListItem, SortKey
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

#: Larger offsets are clamped (any table here is far smaller): the page is empty either way.
MAX_OFFSET = 2**62


#: The page's columns. `imdb`/`meta_score` stay raw here (the page is sorted by the
#: stored values); the outer SELECT adds them as shown (`sql.real`).
_PAGE_COLUMNS = (
    "m.id, CAST(m.uuid AS TEXT) AS uuid, m.name, m.year, m.time, m.imdb, m.votes, m.meta_score, "
    "m.price, m.rental_price, m.certification_id, m.likes, m.dislikes, m.ratings_count, m.ratings_sum, "
    "m.comments_count, m.popularity, m.created_at"
)


def search_sql(term: str) -> tuple[str, list[Any]]:
    """A SELECT of the ids of movies whose title, description, a star's or a director's name
    contains `term` (case-insensitive), and its bound values."""
    op = sql.like()
    pattern = sql.like_pattern(term)
    # A UNION of one index-served lookup per column rather than ORs: PostgreSQL
    # then uses each column's trigram index (migration 0004), where an OR of the
    # two movie columns made it scan the table (measured at 100k movies:
    # ~20 ms against ~250 ms).
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
    `1e-999999999` (exponent beyond NUMERIC's range), which was a 500.
    """
    clamped = min(max(bound, ZERO), PRICE_MAX + 1)
    return clamped.quantize(CENT, rounding=rounding)


def where_clause(filters: MovieFilters) -> tuple[str, list[Any]]:
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
    if filters.year is not None:
        add("m.year = {}", filters.year)
    if filters.year_from is not None:
        add("m.year >= {}", filters.year_from)
    if filters.year_to is not None:
        add("m.year <= {}", filters.year_to)
    # `imdb` is REAL (float4 on PostgreSQL): compare at that precision, so that
    # imdb_max=8.3 includes a stored 8.3.
    if filters.imdb_min is not None:
        add("m.imdb >= CAST({} AS REAL)", filters.imdb_min)
    if filters.imdb_max is not None:
        add("m.imdb <= CAST({} AS REAL)", filters.imdb_max)
    if filters.price_min is not None:
        add("m.price >= {}", _whole_cents(filters.price_min, ROUND_CEILING))
    if filters.price_max is not None:
        add("m.price <= {}", _whole_cents(filters.price_max, ROUND_FLOOR))
    if filters.certification_id is not None:
        add("m.certification_id = {}", filters.certification_id)
    if filters.genre_id is not None:
        add("m.id IN (SELECT movie_id FROM movie_genres WHERE genre_id = {})", filters.genre_id)
    if filters.star_id is not None:
        add("m.id IN (SELECT movie_id FROM movie_stars WHERE star_id = {})", filters.star_id)
    if filters.director_id is not None:
        add("m.id IN (SELECT movie_id FROM movie_directors WHERE director_id = {})", filters.director_id)
    if filters.scope is not ListScope.CATALOG:
        if filters.user_id is None:
            raise ValueError("a favorites/purchases list needs user_id")
        table = "favorites" if filters.scope is ListScope.FAVORITES else "purchases"
        add(f"m.id IN (SELECT movie_id FROM {table} WHERE user_id = {{}})", filters.user_id)  # noqa: S608
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
    card's columns, `imdb_shown`/`meta_score_shown` (`sql.real`), `certification_name`
    and `genres` (`sql.refs_sql`).
    """
    return {
        "id": row["id"],
        "uuid": row["uuid"],
        "name": row["name"],
        "year": row["year"],
        "time": row["time"],
        "imdb": row["imdb_shown"],
        "votes": row["votes"],
        "meta_score": row["meta_score_shown"],
        "price": sql.amount(row["price"]),
        "rental_price": sql.decimal_or_none(row["rental_price"]),
        "certification": {"id": row["certification_id"], "name": row["certification_name"]},
        "genres": sql.refs(row["genres"]),
        "likes": row["likes"],
        "dislikes": row["dislikes"],
        "average_rating": sql.average(row["ratings_sum"], row["ratings_count"]),
        "ratings_count": row["ratings_count"],
        "comments_count": row["comments_count"],
        "popularity": row["popularity"],
        "poster_url": public_media_url(row["poster_key"]),
    }


def _sort_key(sort: SortKey | None) -> tuple[str, str]:
    """(column of `movies`, direction) a list is sorted by, before the id tie-break."""
    if sort is None:
        return "id", "ASC"
    return SORT_COLUMNS[sort.value.lstrip("-")], "DESC" if sort.value.startswith("-") else "ASC"


def list_sql(
    filters: MovieFilters, params: PageParams, *, within: tuple[str, list[Any]] | None = None
) -> tuple[str, list[Any]]:
    """The one statement of a list page (see the module docstring) and its bound values.

    `within` is one more condition over alias `m` and its bound values, from a
    layer above the catalog (the library: the caller's live entitlements).
    """
    where, args = where_clause(filters)
    if within is not None:
        where = f"{where} AND {within[0]}" if where else f"WHERE {within[0]}"
        args = [*args, *within[1]]
    # An absurd page number is simply past the end (and must not overflow OFFSET's bigint).
    window = [params.per_page, min(params.offset, MAX_OFFSET)]
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
        f"{sql.real('p.imdb')} AS imdb_shown, {sql.real('p.meta_score')} AS meta_score_shown, "
        f"{sql.refs_sql('movie_genres', 'genres', 'genre_id', 'p.id')} AS genres, "
        f"{poster_key_sql('p.id')} AS poster_key "
        "FROM total t LEFT JOIN page p ON 1 = 1 "
        "LEFT JOIN certifications c ON c.id = p.certification_id "
        f"{order_by(filters.sort, 'p')}"
    )
    return statement, values


async def list_movies_data(
    filters: MovieFilters, params: PageParams, *, within: tuple[str, list[Any]] | None = None
) -> dict[str, Any]:
    """A page of movies matching `filters`, sorted by `filters.sort`; one SQL statement.

    Returns the API envelope (`items`, `page`, `per_page`, `total`, `pages`) as
    JSON-ready values, the `Page[MovieListItem]` shape: the API encodes it as it
    is, without a validation pass over values the database has already typed
    (issue 7: validating and then dumping models was a quarter of a list's CPU).
    A page past the end has no items and the true total. `within`: see `list_sql`.
    """
    statement, args = list_sql(filters, params, within=within)
    rows = await sql.fetch(statement, *args)
    total = int(rows[0]["total"]) if rows else 0
    return envelope([movie_card(row) for row in rows if row["id"] is not None], params, total)


_PAGE: TypeAdapter[Page[MovieListItem]] = TypeAdapter(Page[MovieListItem])


async def list_movies(filters: MovieFilters, params: PageParams) -> Page[MovieListItem]:
    """`list_movies_data` as a validated `Page[MovieListItem]` (for Python callers: the CLI)."""
    return _PAGE.validate_python(await list_movies_data(filters, params))
