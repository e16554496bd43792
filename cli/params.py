"""Parameter types shared by every command: ids, emails, users and passwords.

Each input is checked by the same rule as the API's, before anything runs,
so a bad value is a usage error (exit 2) with a clear sentence instead of a
database error or a traceback:

- ids are whole numbers from 1 to `MAX_ID` (PostgreSQL's `integer`), as in the
  API's paths and bodies (cinema/ids.py);
- emails follow the account rule of `cinema.accounts.schemas.AccountEmail`
  (the API's registration) and print the API's sentence when broken;
- a user is an id or an email (`cinema.accounts.queries.parse_user_ref`).

Passwords never need the command line: `--password-stdin` reads one line
from standard input, a terminal is asked (hidden, twice), and without either
the command stops at once instead of waiting for input that cannot come.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from cinema.ids import ID_RULE as ID_RULE  # re-exported: the sentence tests and commands quote
from cinema.ids import id_problem as id_problem  # re-exported for cli.common


def parse_id(value: str | int) -> int:
    """A row id (1..MAX_ID), refused before it reaches the database (where it would overflow)."""
    problem = id_problem(str(value))
    if problem:
        raise typer.BadParameter(problem)
    return int(value)


def parse_email(value: str) -> str:
    """An account email by the API's rule, with the API's sentence when broken."""
    from cinema.accounts.schemas import account_email

    try:
        return account_email(str(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def parse_user(value: str | int) -> int | str:
    """A user given by id (digits, sign allowed) or by email; each checked by its rule."""
    from cinema.accounts.queries import parse_user_ref

    try:
        return parse_user_ref(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


#: Parsers whose positional argument may be typed as a negative number (see `cli.common`).
NUMERIC_PARSERS = (parse_id, parse_user)


def id_argument(help: str, metavar: str = "ID") -> Any:
    """A positional row id (1..MAX_ID)."""
    return typer.Argument(parser=parse_id, metavar=metavar, help=help, show_default=False)


def id_option(*names: str, help: str) -> Any:
    """An optional row id filter (1..MAX_ID)."""
    return typer.Option(*names, parser=parse_id, metavar="ID", help=help, show_default=False)


#: A user named by id or email, as a positional argument.
UserArg = Annotated[
    Any, typer.Argument(parser=parse_user, metavar="USER", help="User id or email.", show_default=False)
]
#: An account email option (`--email`), checked as the API checks registration.
EmailOption = Annotated[
    str,
    typer.Option(
        parser=parse_email, metavar="EMAIL", help="Email address (the sign-in name).", show_default=False
    ),
]
#: `--password TEXT` (visible to other local users in the process list: prefer the two below).
PasswordOption = Annotated[
    str | None,
    typer.Option(
        "--password",
        help="The password. Omit it to be asked on a terminal, or use --password-stdin in scripts. "
        "8-64 characters with lower, upper, digit and symbol.",
        show_default=False,
    ),
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input (for scripts).",
    ),
]


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def read_password(given: str | None, from_stdin: bool, *, option: str = "--password") -> str:
    """The password from `--password`, `--password-stdin` or a hidden prompt (asked twice).

    Only the line break ending the line read from stdin is dropped: spaces are
    part of a password. Without a terminal and without either option this is
    a usage error at once, never a wait for input that cannot come.
    """
    if given is not None and from_stdin:
        raise typer.BadParameter(f"give either {option} or {option}-stdin, not both.", param_hint=option)
    if from_stdin:
        line = sys.stdin.readline() if sys.stdin is not None else ""
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise typer.BadParameter(
                "standard input held no password (its first line is empty).", param_hint=f"{option}-stdin"
            )
        return password
    if given is not None:
        return given
    if not stdin_is_terminal():
        raise typer.BadParameter(
            f"none given, and there is no terminal to ask for it. Pipe it in with {option}-stdin.",
            param_hint=option,
        )
    prompted: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return prompted
