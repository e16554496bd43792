"""Running the `cinema` CLI from tests, on the same database as the suite.

Every command goes through `cli.common.run`, which calls `asyncio.run()` and
opens and then closes the database pool around the command. The suite instead
keeps one session-scoped event loop with the pool opened once by the root
`database` fixture. Two consequences:

- CLI tests are plain *sync* test functions: pytest-asyncio's loop is not
  running while a sync test body runs, so `asyncio.run()` may start its own
  loop (inside an async test it would raise "cannot be called from a running
  event loop").
- On PostgreSQL the asyncpg pool belongs to the session loop and must neither
  be used from the command's loop nor closed by it, so the suite's pool is
  parked (`engine.pool = None`) while the command runs with a pool of its own,
  then put back. SQLite opens a connection per query and needs nothing.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from typer.testing import CliRunner

from cinema.db import engine

T = TypeVar("T")


@contextmanager
def parked_pool() -> Iterator[None]:
    """Hide the suite's connection pool from code running on another event loop."""
    db = engine()
    saved = getattr(db, "pool", None)
    if saved is not None:
        db.pool = None  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if saved is not None:
            db.pool = saved  # type: ignore[attr-defined]


def in_cli_loop(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine (setup, reading tables) from a sync CLI test, on its own loop."""

    async def main() -> T:
        return await make()

    with parked_pool():
        return asyncio.run(main())


def invoke_cli(*args: str, input: str | None = None) -> Any:
    """`invoke_cli("users", "list", "--json")` -> click `Result` (exit_code, stdout, stderr)."""
    from cli.main import app

    with parked_pool():
        return CliRunner().invoke(app, list(args), input=input)


ROOT = Path(__file__).resolve().parents[1]


def cinema_process(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real `cinema` program in a process of its own: fresh imports, real exit code and streams.

    `env` entries override (or, set to "", blank) the suite's environment,
    which points at the test database.
    """
    return subprocess.run(  # noqa: S603 - this interpreter, fixed module, test arguments
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def flat(text: str) -> str:
    """`text` with Typer's error box and line wrapping removed, to look for a whole sentence."""
    return " ".join(text.replace("│", " ").split())
