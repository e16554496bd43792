"""Database engine and transactions.

`DATABASE_URL` picks the engine: `postgresql://...` -> Piccolo's PostgresEngine
(asyncpg, pool opened in the app lifespan); `sqlite:///relative/path` or
`sqlite:////absolute/path` -> SQLiteEngine on a local file (the embedded default).
"""

from __future__ import annotations

import contextvars
import functools
import sqlite3
import string
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

from cinema.ids import MAX_ID as MAX_ID  # re-exported: row ids are defined in cinema/ids.py

#: A result row: a dict (SQLite) or an asyncpg Record (PostgreSQL); read it by column name.
Row = Mapping[str, Any]

if TYPE_CHECKING:
    from piccolo.query.methods.select import Select

SelectT = TypeVar("SelectT", bound="Select[Any]")


def _asyncpg_error(exc: BaseException, name: str) -> bool:
    # Matched by class name: no import of the driver (or its missing stubs) needed.
    return type(exc).__module__.startswith("asyncpg") and type(exc).__name__ == name


def is_unique_violation(exc: BaseException) -> bool:
    """True for a UNIQUE violation (asyncpg `UniqueViolationError`, sqlite3 "UNIQUE constraint failed")."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE constraint failed" in str(exc)
    return _asyncpg_error(exc, "UniqueViolationError")


def is_foreign_key_violation(exc: BaseException) -> bool:
    """True when a referenced row is missing or still referenced (asyncpg
    `ForeignKeyViolationError`, sqlite3 "FOREIGN KEY constraint failed")."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "FOREIGN KEY constraint failed" in str(exc)
    return _asyncpg_error(exc, "ForeignKeyViolationError")


def build_engine(database_url: str) -> Engine[Any]:
    """Make the Piccolo engine for a URL. Raises ValueError for an unknown scheme."""
    if database_url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(config={"dsn": database_url})
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # `timeout`: wait for a writer instead of failing at once with "database is locked".
        return SQLiteEngine(path=str(path), timeout=30)
    raise ValueError(
        f"DATABASE_URL must start with postgresql:// or sqlite:///, got {database_url.split(':')[0]!r}"
    )


@functools.cache
def engine() -> Engine[Any]:
    """The engine Piccolo's tables use (from `cinema.piccolo_conf`).

    Found once per process, as Piccolo's tables do (`TableMeta.db`): finding it
    reads the environment and the conf module, which cost a catalog read about
    10 us per lookup (tests/perf).
    """
    found = engine_finder()
    if found is None:  # pragma: no cover - piccolo_conf always defines DB
        raise RuntimeError("No Piccolo engine configured")
    return found


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


async def _keep_session_state(connection: Any) -> None:
    """The pool's `reset` hook: nothing beyond asyncpg's own rollback of an open transaction."""


async def open_pool() -> None:
    """Open the asyncpg pool (PostgreSQL only); called from the app lifespan.

    By default asyncpg resets every connection it takes back (`SELECT
    pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`): one more round
    trip after every pooled query, which cost a tenth of the catalog's throughput
    (tests/perf). Here `reset` is a no-op: asyncpg still rolls back a transaction left
    open on release. The constraint that buys: no code may leave session state on
    a pooled connection that the next user would inherit, i.e. no `SET` (use
    `SET LOCAL` inside a transaction), no `LISTEN`, no session advisory locks
    (use `pg_advisory_xact_lock`), no `WITH HOLD` cursors, no temporary tables
    outliving a transaction.
    """
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=20, reset=_keep_session_state)


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()


@functools.lru_cache(maxsize=512)
def _compiled(template: str, postgres: bool) -> str:
    """`template` with its `{}` placeholders as `$1, $2, ...` (PostgreSQL) or `?` (SQLite).

    Parsed like Piccolo's `QueryString` (`{{`/`}}` are literal braces). Cached:
    the templates are the code's fixed statements, not data.
    """
    parts: list[str] = []
    count = 0
    for literal, field, _spec, _conversion in string.Formatter().parse(template):
        parts.append(literal)
        if field is not None:
            if field:
                raise ValueError(f"only empty {{}} placeholders are allowed, got {{{field}}}")
            count += 1
            parts.append(f"${count}" if postgres else "?")
    return "".join(parts)


async def fetch(template: str, *args: Any) -> list[Row]:
    """Run one parameterised statement (`{}` placeholders, values always bound) and return its rows.

    The same connection rules as Piccolo's `Table.raw`: inside `transaction()` on
    the transaction's connection, else on the pool (PostgreSQL) or a connection of
    its own. Unlike `raw`, the placeholders are compiled once per statement text and
    PostgreSQL rows stay asyncpg Records (no copy into dicts): on the catalog's hot
    reads Piccolo's per-call parsing and row copying were a tenth of the CPU (tests/perf).
    """
    db = engine()
    current = db.current_transaction.get()
    if isinstance(db, PostgresEngine):
        text = _compiled(template, True)
        if current is not None:
            records: list[Row] = await current.connection.fetch(text, *args)
            return records
        if db.pool is not None:
            async with db.pool.acquire() as connection:
                records = await connection.fetch(text, *args)
            return records
    elif current is not None:
        async with current.connection.execute(_compiled(template, False), args) as cursor:
            rows: list[Row] = await cursor.fetchall()  # Piccolo's row factory: dicts
        return rows
    result: list[Row] = await db.run_querystring(QueryString(template, *args))
    return result


AfterCommitCallback = Callable[[], Awaitable[Any]]


class AfterCommit:
    """Callbacks to run once the surrounding transaction has committed.

    Tasks (emails) are enqueued here, so a rolled-back change sends nothing and
    a committed one always enqueues its task (docs/architecture.md, "Background work").
    """

    def __init__(self) -> None:
        self._callbacks: list[AfterCommitCallback] = []

    def add(self, callback: AfterCommitCallback) -> None:
        self._callbacks.append(callback)

    async def run(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            await callback()


_current: contextvars.ContextVar[AfterCommit | None] = contextvars.ContextVar(
    "cinema_after_commit", default=None
)


@asynccontextmanager
async def transaction() -> AsyncIterator[AfterCommit]:
    """Open a write transaction; yields an `AfterCommit` for post-commit work.

    Nested use joins the outer transaction and its callbacks. On SQLite the
    transaction is `BEGIN IMMEDIATE`, so concurrent writers queue on the lock
    instead of failing when they upgrade from a read lock.
    """
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    hooks = AfterCommit()
    token = _current.set(hooks)
    db = engine()
    try:
        if isinstance(db, SQLiteEngine):
            async with db.transaction(transaction_type=TransactionType.immediate):
                yield hooks
        else:
            async with db.transaction():
                yield hooks
    finally:
        _current.reset(token)
    await hooks.run()


# --- Row locks ----------------------------------------------------------------
# The one way a service locks rows it is about to check and change. PostgreSQL
# takes a row lock (`SELECT ... FOR <mode>`) held until the transaction ends;
# SQLite needs none, because `transaction()` opens `BEGIN IMMEDIATE`, which
# already excludes every other writer. Modes:
# - UPDATE: the default; also blocks inserts of rows referencing the locked row
#   (their foreign-key check needs KEY SHARE), so checks stay true until commit;
# - NO KEY UPDATE: queues writers of the row but lets others insert rows that
#   reference it (used where such an insert would otherwise deadlock);
# - KEY SHARE: only keeps the row from being deleted (or its key changed) until
#   commit, e.g. the movie a new comment points at.

LockMode = Literal["UPDATE", "NO KEY UPDATE", "SHARE", "KEY SHARE"]


def lock_clause(mode: LockMode = "UPDATE", *, of: str | None = None) -> str:
    """The text to append to a raw `SELECT` that locks its rows: `" FOR UPDATE OF c"`, or `""` on SQLite."""
    if not is_postgres():
        return ""
    return f" FOR {mode}" + (f" OF {of}" if of else "")


def locked(query: SelectT, mode: LockMode = "UPDATE") -> SelectT:
    """A Piccolo `select()` that locks the rows it reads (see `lock_clause`)."""
    return query.lock_rows(mode) if is_postgres() else query


async def lock_row(table: str, row_id: int) -> bool:
    """Lock one row by id until the transaction ends; False when it is missing.

    `table` must be a fixed identifier from code, never input.
    """
    return bool(await fetch(f"SELECT id FROM {table} WHERE id = {{}}" + lock_clause(), row_id))  # noqa: S608
