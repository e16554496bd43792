"""Raw-SQL plumbing of the catalog: one place for dialect differences and value shapes.

The catalog's hot paths (lists, detail, import) are hand-written SQL run through
`cinema.db.fetch` on Piccolo's engine, so they use the same connection pool and
the same transaction as the ORM calls around them. Values are always bound
parameters (`{}` placeholders, compiled to `$n` or `?`); only identifiers from
fixed whitelists are ever formatted into SQL text.

Differences handled here:
- case-insensitive substring match: `ILIKE` (PostgreSQL, served by pg_trgm GIN
  indexes, migration 0004) or `LIKE` (SQLite: case-insensitive for ASCII);
- aggregation of a movie's genres/stars/directors: an array of records or a
  JSON array (`refs_sql`);
- column values: SQLite returns NUMERIC as float/str, UUID and timestamps as text
  when it cannot see a column's declared type; PostgreSQL returns `REAL` (float4)
  as a float with float32 noise (9.3 -> 9.300000190734863).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cinema.db import Row, fetch, is_postgres
from cinema.money import money

__all__ = ["Row", "fetch"]  # re-exported: the catalog's statements run through `cinema.db.fetch`


def batch_size(sqlite: int, postgres: int) -> int:
    """Rows per bulk statement: PostgreSQL takes whole columns as arrays, SQLite one value per `?`."""
    return postgres if is_postgres() else sqlite


def rows_source(types: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """The rows of a bulk INSERT and their bound values.

    PostgreSQL: `SELECT * FROM unnest($1::t1[], $2::t2[], ...)`, one array per
    column (a handful of values, however many rows). SQLite: `VALUES (?, ?), ...`.
    `types` are PostgreSQL type names of the columns, in order.
    """
    if is_postgres():
        columns: list[Any] = (
            [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in types]
        )
        return "SELECT * FROM unnest(" + ", ".join(f"{{}}::{t}[]" for t in types) + ")", columns  # noqa: S608
    row = "(" + placeholders(len(types)) + ")"
    return "VALUES " + ", ".join([row] * len(rows)), [value for r in rows for value in r]


def any_of(column: str, values: Sequence[Any], pg_type: str) -> tuple[str, list[Any]]:
    """`column = ANY($1::type[])` (PostgreSQL, one array value) or `column IN (?, ?, ...)`."""
    if is_postgres():
        return f"{column} = ANY({{}}::{pg_type}[])", [list(values)]
    return f"{column} IN ({placeholders(len(values))})", list(values)


def placeholders(count: int) -> str:
    """`{}, {}, ...` for an IN list of `count` bound values."""
    return ", ".join(["{}"] * count)


def like() -> str:
    """The case-insensitive LIKE operator of the current engine."""
    return "ILIKE" if is_postgres() else "LIKE"


def like_pattern(term: str) -> str:
    r"""`%term%` with the LIKE wildcards in `term` escaped (used with `ESCAPE '\'`)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def refs_sql(join_table: str, entity_table: str, fk: str, movie_ref: str) -> str:
    """A scalar subquery: the movie's entities, in join order, for `refs()`.

    PostgreSQL: an array of `(id, name)` records ordered by the join row's id,
    decoded by asyncpg in C; SQLite: a JSON array of `{"id", "name", "o"}`,
    `o` being the join row's id (insertion order: billing order of stars, the
    CSV's genre order), sorted by `refs()`.
    """
    if is_postgres():
        agg = "array_agg((e.id, e.name) ORDER BY j.id)"
    else:
        agg = "json_group_array(json_object('id', e.id, 'name', e.name, 'o', j.id))"
    return (
        f"(SELECT {agg} FROM {join_table} j JOIN {entity_table} e ON e.id = j.{fk} "  # noqa: S608
        f"WHERE j.movie_id = {movie_ref})"
    )


def refs(value: Any) -> list[dict[str, Any]]:
    """A `refs_sql` value as `[{"id", "name"}]` in join order."""
    if value is None:
        return []
    if isinstance(value, list):  # PostgreSQL: records, already in order
        return [{"id": ref[0], "name": ref[1]} for ref in value]
    items: list[dict[str, Any]] = json.loads(value)
    items.sort(key=lambda item: item["o"])
    return [{"id": item["id"], "name": item["name"]} for item in items]


def real(column: str) -> str:
    """A REAL column selected as the number a person typed: the shortest decimal of its value.

    PostgreSQL's REAL is a float4, read back with float32 noise (9.3 ->
    9.300000190734863). Its text form (with the default `extra_float_digits = 1`
    of PostgreSQL 12+) is the shortest decimal that reads back as
    the same float4 (9.3; 7.123456789 stored is 7.123457), so a value shown can
    be given back as a filter bound and match (`CAST({} AS REAL)` in the
    filters). Through `numeric` it would keep 6 digits only (7.12346), and
    `imdb_min=7.12346` would miss it. SQLite's REAL is already a double.
    Values of equal columns stay equal and their order is kept, but sort by the
    raw column anyway.
    """
    return f"{column}::text::float8" if is_postgres() else column


def amount(value: Any) -> Decimal:
    """A NUMERIC(…, 2) column as a two-place Decimal (SQLite may hand back a float or `Decimal("7.7")`)."""
    if type(value) is Decimal and value.as_tuple().exponent == -2:  # PostgreSQL's NUMERIC(10, 2)
        return value
    return money(value)


def decimal_or_none(value: Any) -> Decimal | None:
    """A NUMERIC(…, 2) column as a two-place Decimal, or None (SQLite may hand back a float)."""
    return None if value is None else money(value)


def as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def as_datetime(value: Any) -> datetime:
    """A TIMESTAMPTZ column as an aware datetime (SQLite may hand back text)."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def average(ratings_sum: int, ratings_count: int) -> float | None:
    """Mean score with two decimals, or None when nobody rated."""
    return round(ratings_sum / ratings_count, 2) if ratings_count else None


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """`items` cut into slices of at most `size` (bounded statement sizes and bind counts)."""
    return [items[i : i + size] for i in range(0, len(items), size)]
