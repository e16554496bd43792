"""Accounts test helpers: sign-up through the real API, tokens read from the real emails, and the CLI.

About the CLI (`cinema ...` through `typer.testing.CliRunner`): every command
goes through `cli.common.run`, which calls `asyncio.run()` and opens and then
closes the database pool around the command. The suite instead keeps one
session-scoped event loop with the pool opened once by the root `database`
fixture. Two consequences:

- CLI tests are plain *sync* test functions: pytest-asyncio's loop is not
  running while a sync test body runs, so `asyncio.run()` may start its own
  loop (inside an async test it would raise "cannot be called from a running
  event loop").
- On PostgreSQL the asyncpg pool belongs to the session loop and must neither
  be used from the command's loop nor closed by it. `cli_runner` therefore
  parks the suite's pool for the duration of the command (`engine.pool = None`),
  so the command opens and closes a pool of its own, then puts the suite's
  pool back. SQLite opens a connection per query and needs nothing.

`in_cli_loop(...)` runs setup/inspection coroutines the same way from sync tests.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any, TypeVar

import httpx
import pytest
from typer.testing import CliRunner

from cinema.db import engine
from tests.conftest import STRONG_PASSWORD, text_of

T = TypeVar("T")

TOKEN_IN_LINK = re.compile(r"[?&]token=([A-Za-z0-9_\-]+)")
RESET_TOKEN = re.compile(r"hour\(s\): ([A-Za-z0-9_\-]+)")


def activation_token(message: EmailMessage) -> str:
    """The token in an activation email's link."""
    found = TOKEN_IN_LINK.search(text_of(message))
    assert found, text_of(message)
    return found.group(1)


def reset_token(message: EmailMessage) -> str:
    found = RESET_TOKEN.search(text_of(message))
    assert found, text_of(message)
    return found.group(1)


async def register(
    client: httpx.AsyncClient, email: str, password: str = STRONG_PASSWORD, **extra: Any
) -> httpx.Response:
    return await client.post("/accounts/register", json={"email": email, "password": password, **extra})


async def login(
    client: httpx.AsyncClient, email: str, password: str = STRONG_PASSWORD, **extra: Any
) -> httpx.Response:
    return await client.post("/accounts/login", json={"email": email, "password": password, **extra})


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
def signup(
    client: httpx.AsyncClient, outbox: Callable[[], Awaitable[list[EmailMessage]]]
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """`await signup(email)`: register, activate with the emailed token, log in; returns the token pair."""

    async def run(email: str, password: str = STRONG_PASSWORD) -> dict[str, Any]:
        response = await register(client, email, password)
        assert response.status_code == 201, response.text
        mails = [m for m in await outbox() if m["To"] == email.lower()]
        activated = await client.post(
            "/accounts/activate", json={"email": email, "token": activation_token(mails[-1])}
        )
        assert activated.status_code == 200, activated.text
        tokens = await login(client, email, password)
        assert tokens.status_code == 200, tokens.text
        body: dict[str, Any] = tokens.json()
        return body

    return run


@contextmanager
def _parked_pool() -> Iterator[None]:
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
    """Run a coroutine from a sync (CLI) test, on its own loop, without the suite's pool."""

    async def main() -> T:
        return await make()

    with _parked_pool():
        return asyncio.run(main())


@pytest.fixture
def cli_runner() -> Callable[..., Any]:
    """`cli_runner("users", "list", "--json")` -> click `Result` (exit_code, stdout, stderr)."""
    from cli.main import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Any:
        with _parked_pool():
            return runner.invoke(app, list(args), input=input)

    return invoke
