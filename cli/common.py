"""Shared CLI plumbing: running services, rendering, and how every command fails.

Commands are thin: parse options, call one service function through `run()`,
render with `output()` (a Rich table on a terminal, JSON with `--json`).

Exit codes (README.md, "CLI"), the same for every command:

- 0: done;
- 1: a domain error (the API's `detail` and `code`), or an unexpected error;
- 2: a usage error: a bad option or argument (Typer's own);
- 3: an infrastructure problem: invalid settings, a database that cannot be
  reached or has no schema yet, Redis unreachable.

A failure prints one red line on stderr saying what to do. The traceback
comes only with `cinema --debug ...` or `CINEMA_DEBUG=1`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import sqlite3
import sys
import traceback
import warnings
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, NoReturn, TypeVar, cast

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType

from cinema.accounts import actor
from cinema.accounts.actor import CurrentUser, GroupName
from cinema.errors import CinemaError
from cli.params import NUMERIC_PARSERS, id_problem

T = TypeVar("T")

EXIT_DOMAIN = 1
EXIT_USAGE = 2
EXIT_INFRASTRUCTURE = 3

console = Console()
#: Errors are one line whatever the width: scripts read them, terminals wrap them.
err_console = Console(stderr=True, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]


#: The actor every command passes to the services: the operator at the shell, trusted with the
#: ADMIN role (cinema/accounts/actor.py). It has no account (id 0), so services record no user
#: as having acted (e.g. `refund_requests.decided_by` stays NULL); a command that should name a
#: person takes `--as EMAIL` and passes `acting_as(email)` instead.
OPERATOR = actor.OPERATOR


async def acting_as(email: str | None) -> CurrentUser:
    """The actor for `--as EMAIL`: that active account with its own role; `OPERATOR` without one.

    Raises `UserNotFound` (404) and `InactiveAccount` (403). The service then
    decides whether the account's role may do what the command asks.
    """
    if email is None:
        return OPERATOR
    from cinema.accounts.errors import InactiveAccount, UserNotFound
    from cinema.accounts.tables import User

    row = (
        await User.select(
            User.id, User.email, User.active.as_alias("active"), User.group.name.as_alias("group_name")
        )
        .where(User.email == User.normalize_email(email))
        .first()
        .run()
    )
    if row is None:
        raise UserNotFound()
    if not row["active"]:
        raise InactiveAccount()
    return CurrentUser(
        id=int(row["id"]), email=str(row["email"]), group=GroupName(row["group_name"]), session_id=""
    )


class InfrastructureError(Exception):
    """Something around the code is wrong (settings, database, Redis); `str()` says what to do."""


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Run one service coroutine with the database pool open.

    Errors propagate to `CinemaGroup`, which prints them in one line with
    their exit code; the database's own problems are named here first.
    """

    async def main() -> T:
        from taskiq import InMemoryBroker

        from cinema.db import close_pool
        from cinema.tasks import broker

        await _open_database()
        try:
            return await make()
        finally:
            # Without Redis, tasks (emails) run in this process: let them finish before exiting.
            if isinstance(broker, InMemoryBroker):
                await broker.wait_all()
            await close_pool()

    _build_engine()
    return asyncio.run(main())


def redact(url: str) -> str:
    """`url` without its password, for messages."""
    return re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", url)


def _database_url() -> str:
    from cinema.config import get_settings

    return redact(get_settings().database_url)


def _build_engine() -> None:
    """Build the Piccolo engine now, so a DATABASE_URL it cannot use is named as such."""
    from cinema.db import engine

    url = _database_url()  # invalid settings raise here, reported by CinemaGroup
    try:
        # Piccolo's PostgresEngine asks the server for its version as it is built and
        # prints a warning of its own when it cannot; `_open_database` says it in one line.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            engine()
    except Exception as exc:
        raise InfrastructureError(
            f"DATABASE_URL {url} cannot be used: {_reason(exc)}. Fix DATABASE_URL."
        ) from exc


async def _open_database() -> None:
    """Open the PostgreSQL pool, or check that the SQLite file can be opened (or created)."""
    from piccolo.engine.sqlite import SQLiteEngine

    from cinema.db import engine, open_pool

    db = engine()
    if isinstance(db, SQLiteEngine):
        # Piccolo opens SQLite per query in a worker thread; a file it cannot open
        # would fail there, after this loop has closed. One plain attempt says it here.
        try:
            sqlite3.connect(db.path).close()
        except sqlite3.Error as exc:
            raise InfrastructureError(
                f"cannot open the database {_database_url()}: {_reason(exc)}. "
                "Check DATABASE_URL and that the file's folder exists and is writable."
            ) from exc
        return
    try:
        await open_pool()
    except Exception as exc:
        raise InfrastructureError(
            f"cannot connect to the database {_database_url()}: {_reason(exc)}. "
            "Check that PostgreSQL is running and that DATABASE_URL is right."
        ) from exc


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].rstrip(".")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and the exceptions it was raised from or while handling."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _asyncpg_error(exc: BaseException, *names: str) -> bool:
    # Matched by class name (the whole MRO): no import of the driver or its missing stubs.
    return type(exc).__module__.startswith("asyncpg") and any(c.__name__ in names for c in type(exc).__mro__)


def _is_missing_schema(exc: BaseException) -> bool:
    """An unmigrated (or partly migrated) database: no such table or column."""
    if isinstance(exc, sqlite3.OperationalError):
        return str(exc).startswith(("no such table", "no such column"))
    return _asyncpg_error(exc, "UndefinedTableError", "UndefinedColumnError")


_SQLITE_TROUBLE = (
    "unable to open",
    "database is locked",
    "readonly database",
    "disk I/O error",
    "disk is full",
)


def infrastructure_problem(exc: BaseException) -> str | None:
    """One line saying what is wrong around the code and what to do, or None for other errors."""
    from pydantic import ValidationError

    for cause in _chain(exc):
        if isinstance(cause, InfrastructureError):
            return str(cause)
        if isinstance(cause, ValidationError) and cause.title == "Settings":
            problems = "; ".join(_settings_problem(error) for error in cause.errors())
            return f"invalid settings: {problems}. Fix the environment variables (or .env) and run again."
        if _is_missing_schema(cause):
            return (
                f"the database {_database_url()} has no Cinema schema (or an older one). "
                "Run `cinema db migrate` (or start from the project folder, where var/ lives)."
            )
        if isinstance(cause, sqlite3.OperationalError) and any(t in str(cause) for t in _SQLITE_TROUBLE):
            return f"the SQLite database {_database_url()} failed: {_reason(cause)}. Check DATABASE_URL and its folder."
        if _asyncpg_error(
            cause,
            "PostgresConnectionError",
            "InterfaceError",
            "CannotConnectNowError",
            "TooManyConnectionsError",
        ):
            return (
                f"the connection to the database {_database_url()} failed: {_reason(cause)}. "
                "Check that it is running and that DATABASE_URL is right."
            )
        redis_problem = _redis_problem(cause)
        if redis_problem:
            return redis_problem
        if isinstance(cause, OSError):
            return f"a connection or file failed: {_reason(cause)}. Check the service or path it names."
    return None


def _settings_problem(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"]).upper()
    message = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
    return f"{field}: {message}" if field else message


def _redis_problem(exc: BaseException) -> str | None:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if not isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return None
    from cinema.config import get_settings

    url = redact(get_settings().redis_url or "")
    return (
        f"cannot reach Redis at {url}: {_reason(exc)}. Start Redis or fix REDIS_URL "
        "(unset, tasks run inside this process)."
    )


def fail(exc: Exception, *, debug: bool) -> NoReturn:
    """Print `exc` as one red line (after its traceback with `debug`) and exit with its code."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, CinemaError):
        # The API's sentence and code, then the body's extra fields (e.g. the rules a
        # password breaks), all on one line.
        facts = "".join(f"; {name}: {_fact(value)}" for name, value in exc.extra.items())
        err_console.print(f"[red]Error:[/red] {escape(exc.detail)} [dim]({escape(exc.code + facts)})[/dim]")
        raise typer.Exit(EXIT_DOMAIN)
    problem = infrastructure_problem(exc)
    if problem is not None:
        err_console.print(f"[red]Error:[/red] {escape(problem)}")
        raise typer.Exit(EXIT_INFRASTRUCTURE)
    hint = "" if debug else " Run again with --debug (or CINEMA_DEBUG=1) for the traceback."
    err_console.print(f"[red]Error:[/red] unexpected {type(exc).__name__}: {escape(_reason(exc))}.{hint}")
    raise typer.Exit(EXIT_DOMAIN)


def _fact(value: Any) -> str:
    """An error's extra field as text: lists joined with commas, one line."""
    if isinstance(value, list | tuple):
        return ", ".join(_fact(item) for item in value)
    return " ".join(str(value).split())


#: Exceptions that are Typer's own way of ending a command (usage errors, `Exit`, `Abort`, end of input).
_CONTROL_FLOW = (typer.TyperException, typer.Exit, typer.Abort, EOFError)


class CinemaGroup(TyperGroup):
    """The root command: turns any failure of a subcommand into one line and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _CONTROL_FLOW:
            raise
        except Exception as exc:
            fail(exc, debug=bool(ctx.params.get("debug")))


class CinemaCommand(TyperCommand):
    """A command whose id argument may be typed as a negative number.

    The parser reads `-1` as an unknown option; where the command takes an id
    (or a user) argument, the error says what ids may be instead.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        given = list(args)  # the parser consumes `args`
        try:
            return super().parse_args(ctx, args)
        except typer.TyperException as exc:
            name = getattr(exc, "option_name", "")
            if type(exc).__name__ != "NoSuchOption" or not re.fullmatch(r"-\d", name or ""):
                raise
            negative = next((a for a in given if re.fullmatch(r"-\d+", a) and a.startswith(name)), None)
            param = _numeric_argument(self.params, given[: given.index(negative)] if negative else [])
            if negative is None or param is None:
                raise
            raise typer.BadParameter(id_problem(negative) or "", ctx=ctx, param=cast(Any, param)) from None


def _numeric_argument(params: list[Any], before: list[str]) -> Any:
    """The id (or user) argument a negative number stands for: by position, else the first."""
    arguments = [p for p in params if getattr(p, "param_type_name", "") == "argument"]
    numeric = [p for p in arguments if _parser_of(p) in NUMERIC_PARSERS]
    if not numeric:
        return None
    position = sum(1 for token in before if not token.startswith("-"))
    if position < len(arguments) and arguments[position] in numeric:
        return arguments[position]
    return numeric[0]


def _parser_of(param: Any) -> Any:
    """The `parser=` a Typer argument was declared with (None for options and plain types)."""
    if getattr(param, "param_type_name", "") != "argument":
        return None
    return getattr(getattr(getattr(param, "type_descriptor", None), "parameter_info", None), "parser", None)


class CinemaTyper(typer.Typer):
    """`typer.Typer` whose commands are `CinemaCommand`s; every sub-app of `cinema` is one."""

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(name, cls=cls or CinemaCommand, **kwargs)


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


def page_title(what: str, page: Any) -> str:
    """A listed page's table title: `"Orders (page 1 of 3, 47 in all)"` (an empty list is page 1 of 1)."""
    return f"{what} (page {page.page} of {max(page.pages, 1)}, {page.total} in all)"


def success(message: str) -> None:
    console.print(f"[green]{message}[/green]")
