"""Shared CLI plumbing: running services, rendering, and mapping domain errors.

Commands are thin: parse options, call one service function through `run()`,
render with `output()` (a Rich table on a terminal, JSON with `--json`).
A domain error prints its sentence in red on stderr and exits 1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from cinema.errors import CinemaError

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Run one service coroutine with the database pool open; domain errors exit 1 in red."""

    async def main() -> T:
        from taskiq import InMemoryBroker

        from cinema.db import close_pool, open_pool
        from cinema.tasks import broker

        await open_pool()
        try:
            return await make()
        finally:
            # Without Redis, tasks (emails) run in this process: let them finish before exiting.
            if isinstance(broker, InMemoryBroker):
                await broker.wait_all()
            await close_pool()

    try:
        return asyncio.run(main())
    except CinemaError as exc:
        err_console.print(f"[red]Error:[/red] {exc.detail} [dim]({exc.code})[/dim]")
        raise typer.Exit(1) from None
    except Exception as exc:
        if not _is_missing_schema(exc):
            raise
        from cinema.config import get_settings

        err_console.print(
            f"[red]Error:[/red] the database {get_settings().database_url} has no Cinema schema. "
            "Run `cinema db migrate` (or start from the project folder, where var/ lives)."
        )
        raise typer.Exit(1) from None


def _is_missing_schema(exc: BaseException) -> bool:
    """True for "no such table" (SQLite) / undefined table (PostgreSQL): an unmigrated database."""
    import sqlite3

    if isinstance(exc, sqlite3.OperationalError):
        return "no such table" in str(exc)
    return type(exc).__name__ == "UndefinedTableError"


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from models, dataclasses, Decimals (as strings) and datetimes (ISO 8601)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def print_json(value: Any) -> None:
    typer.echo(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False))


def output(
    rows: Sequence[Any],
    columns: Sequence[str],
    *,
    as_json: bool,
    title: str | None = None,
    payload: Any = None,
) -> None:
    """Render `rows` (models, dataclasses or dicts) as a table of `columns`, or JSON.

    With `--json`, prints `payload` when given (e.g. a whole page envelope), else the rows.
    """
    if as_json:
        print_json(payload if payload is not None else list(rows))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        data = to_jsonable(row)
        table.add_row(*("" if data.get(c) is None else str(data.get(c)) for c in columns))
    console.print(table)


def success(message: str) -> None:
    console.print(f"[green]{message}[/green]")
