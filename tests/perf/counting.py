"""Serve an app with its SQL counted per request: `python -m tests.perf.counting product|baseline`.

Technique: asyncpg's `Connection` methods that send SQL (`execute`,
`executemany`, `fetch`, `fetchrow`, `fetchval`, `fetchmany`) are wrapped at the
class level, before the app starts, so every statement is counted wherever it
comes from: Piccolo's engine (pooled, in a transaction or on a new connection),
the product's raw SQL, asyncpg's own BEGIN/COMMIT and the pool's connection
reset. An outer ASGI middleware puts a fresh counter in a context variable for
each HTTP request (tasks the request spawns, e.g. `asyncio.gather`, copy the
context and so share the counter) and returns the counts in response headers:

- `X-Bench-SQL`: statements of the application (SELECT/INSERT/UPDATE/DELETE...);
- `X-Bench-Tx`: transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT...);
- `X-Bench-Reset`: asyncpg's reset of a connection given back to the pool;
- `X-Bench-Round-Trips`: all three together (each is one round trip to the server).

Nothing in the product is changed or imported differently; this process is
only used for counting, never for the timed runs. Work done after the response
is sent (after-commit tasks run in the background) is not in the headers.
"""

from __future__ import annotations

import argparse
import contextvars
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg.connection  # type: ignore[import-untyped]

_METHODS = ("execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany")
_TX_PREFIXES = ("BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END")


@dataclass
class Counts:
    sql: int = 0
    tx: int = 0
    reset: int = 0

    @property
    def round_trips(self) -> int:
        return self.sql + self.tx + self.reset


current: contextvars.ContextVar[Counts | None] = contextvars.ContextVar("bench_sql_counts", default=None)


def classify(query: str) -> str:
    """`tx`, `reset` or `sql` for a statement's text."""
    text = query.lstrip().upper()
    if text.startswith(_TX_PREFIXES):
        return "tx"
    if text.startswith("SELECT PG_ADVISORY_UNLOCK_ALL") or "RESET ALL" in text:
        return "reset"
    return "sql"


def _wrap(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def counted(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        counts = current.get()
        if counts is not None:
            kind = classify(query)
            setattr(counts, kind, getattr(counts, kind) + 1)
        return await method(self, query, *args, **kwargs)

    return counted


def install() -> None:
    """Wrap asyncpg's query methods (idempotent)."""
    cls = asyncpg.connection.Connection
    if getattr(cls, "_bench_counted", False):
        return
    for name in _METHODS:
        setattr(cls, name, _wrap(getattr(cls, name)))
    cls._bench_counted = True


class CountingMiddleware:
    """Outermost ASGI middleware: one `Counts` per HTTP request, returned in `X-Bench-*` headers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counts = Counts()
        token = current.set(counts)

        async def send_with_counts(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-bench-sql", str(counts.sql).encode()),
                    (b"x-bench-tx", str(counts.tx).encode()),
                    (b"x-bench-reset", str(counts.reset).encode()),
                    (b"x-bench-round-trips", str(counts.round_trips).encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_counts)
        finally:
            current.reset(token)


def build(which: str) -> Any:
    """The counted ASGI app: `product` (cinema.api.app) or `baseline` (tests.perf.baseline)."""
    install()
    if which == "product":
        from cinema.api.app import create_app

        return CountingMiddleware(create_app())
    from tests.perf.baseline import create_app as create_baseline

    return CountingMiddleware(create_baseline())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve an app with per-request SQL counts.")
    parser.add_argument("which", choices=("product", "baseline"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(build(args.which), host=args.host, port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
