"""Raw-SQL plumbing of the catalog: one place for dialect differences and value shapes.

The catalog's hot paths (lists, detail, import) are hand-written SQL run through
Piccolo's engine (`Table.raw`), so they use the same connection pool and the
same transaction as the ORM calls around them. Values are always bound
parameters (`{}` placeholders, compiled by Piccolo to `$n` or `?`); only
identifiers from fixed whitelists are ever formatted into SQL text.

Differences handled here:
- case-insensitive substring match: `ILIKE` (PostgreSQL, served by pg_trgm GIN
  indexes, migration 0004) or `LIKE` (SQLite: case-insensitive for ASCII);
- JSON aggregation of a movie's genres/stars/directors: `json_agg` or
  `json_group_array`;
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

from cinema.catalog.tables import Movie
from cinema.commerce.money import money
from cinema.db import engine, is_postgres

Row = dict[str, Any]


async def fetch(sql: str, *args: Any) -> list[Row]:
    """Run one parameterised statement (`{}` placeholders) and return its rows as dicts."""
    rows: list[Row] = await Movie.raw(sql, *args).run()
    return rows


async def fetch_bulk(template: str, args: Sequence[Any]) -> list[Row]:
    """`fetch` for statements with thousands of bound values (the importer's batches).

    Piccolo's QueryString parses the template and every argument in Python, which
    costs more than the database's work for a 6,500-value INSERT. Inside a
    transaction this compiles the `{}` placeholders itself (`$n` or `?`) and runs
    the statement on the transaction's own connection (asyncpg or aiosqlite), so
    it still commits or rolls back with everything else. Outside a transaction it
    is plain `fetch`.
    """
    db = engine()
    current = db.current_transaction.get()
    if current is None:
        return await fetch(template, *args)
    parts = template.split("{}")
    if len(parts) - 1 != len(args):
        raise ValueError(f"{len(parts) - 1} placeholders for {len(args)} values")
    if is_postgres():
        text = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
        records = await current.connection.fetch(text, *args)
        return [dict(record) for record in records]
    text = "?".join(parts)
    async with current.connection.execute(text, list(args)) as cursor:
        rows: list[Row] = await cursor.fetchall()  # Piccolo's row factory: dicts
    return rows


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


def json_refs(join_table: str, entity_table: str, fk: str, movie_ref: str) -> str:
    """A scalar subquery: the movie's entities as a JSON array of `{"id", "name", "o"}`.

    `o` is the join row's id (insertion order: billing order of stars, the
    CSV's genre order); callers sort by it with `refs()`.
    """
    obj = (
        "json_build_object('id', e.id, 'name', e.name, 'o', j.id)"
        if is_postgres()
        else "json_object('id', e.id, 'name', e.name, 'o', j.id)"
    )
    agg = f"json_agg({obj})" if is_postgres() else f"json_group_array({obj})"
    return (
        f"(SELECT {agg} FROM {join_table} j JOIN {entity_table} e ON e.id = j.{fk} "  # noqa: S608
        f"WHERE j.movie_id = {movie_ref})"
    )


def refs(value: Any) -> list[dict[str, Any]]:
    """Parse a `json_refs` value into `[{"id", "name"}]` in join order."""
    if value is None:
        return []
    items: list[dict[str, Any]] = json.loads(value) if isinstance(value, str | bytes) else list(value)
    items.sort(key=lambda item: item["o"])
    return [{"id": item["id"], "name": item["name"]} for item in items]


def real(value: Any) -> float | None:
    """A REAL column as the float a person typed: float32 noise removed (7 significant digits)."""
    if value is None:
        return None
    return float(f"{float(value):.7g}")


def decimal_or_none(value: Any) -> Decimal | None:
    """A NUMERIC(…, 2) column as a two-place Decimal (SQLite may hand back a float)."""
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


async def lock_row(table: str, row_id: int) -> bool:
    """Lock one row until the transaction ends (PostgreSQL `FOR UPDATE`); False when it is missing.

    Holding it blocks writers that would add rows referencing it (their foreign-key
    check needs a share lock), so checks made after it stay true until commit.
    On SQLite the `BEGIN IMMEDIATE` transaction already excludes other writers.
    """
    suffix = " FOR UPDATE" if is_postgres() else ""
    rows = await fetch(f"SELECT id FROM {table} WHERE id = {{}}{suffix}", row_id)  # noqa: S608
    return bool(rows)
