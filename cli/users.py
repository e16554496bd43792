"""`cinema users`: list, show, create, activate, deactivate, set-group, set-password, delete.

A user is named by id or by email (any letter case), each checked as the API
checks it (`cli.params`). Every command calls one function of
`cinema.accounts.service` (deletion: `cinema.interactions.erasure`), imported
when it runs (so `--help` reads no settings), as the operator
(`cinema.accounts.actor.OPERATOR`: whoever has this shell is an ADMIN);
domain errors print in red and exit 1.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cinema.accounts.actor import OPERATOR, GroupName
from cinema.accounts.schemas import UserOut
from cinema.pagination import PageParams
from cli.common import CinemaTyper, JsonOption, output, print_json, run, success
from cli.params import EmailOption, PasswordOption, PasswordStdinOption, UserArg, read_password

app = CinemaTyper(
    help="User accounts: list, show, create, activate, deactivate, set-group, set-password, delete.",
    no_args_is_help=True,
)

COLUMNS = ["id", "email", "group", "is_active", "created_at"]
PROFILE_COLUMNS = ["display_name", "first_name", "last_name", "gender", "date_of_birth", "info", "avatar_url"]


def _show(user: UserOut, as_json: bool, title: str | None = None) -> None:
    if as_json:
        print_json(user)
        return
    output([user], COLUMNS, as_json=False, title=title or f"User #{user.id}")
    output([user.profile], PROFILE_COLUMNS, as_json=False, title="Profile")


@app.command("list")
def list_users(
    email: Annotated[str | None, typer.Option(help="Only emails containing this text (any case).")] = None,
    group: Annotated[GroupName | None, typer.Option(help="Only this group.", case_sensitive=False)] = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Only active / only inactive accounts.", show_default=False),
    ] = None,
    page: Annotated[int, typer.Option(min=1, help="Page number, from 1.")] = 1,
    per_page: Annotated[int, typer.Option("--per-page", min=1, max=100, help="Users per page, 1..100.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Users by id, a page at a time (same filters as GET /accounts/users)."""
    from cinema.accounts import service

    result = run(
        lambda: service.list_users(
            OPERATOR, PageParams(page, per_page), email=email, group=group, is_active=active
        )
    )
    output(
        result.items,
        COLUMNS,
        as_json=as_json,
        title=f"Users (page {result.page} of {max(result.pages, 1)}, {result.total} in all)",
        payload=result,
    )


@app.command("show")
def show_user(user: UserArg, as_json: JsonOption = False) -> None:
    """One user with their profile."""
    from cinema.accounts import service

    _show(run(lambda: service.get_user(OPERATOR, user)), as_json)


@app.command("create")
def create_user(
    email: EmailOption,
    password: PasswordOption = None,
    password_stdin: PasswordStdinOption = False,
    group: Annotated[
        GroupName, typer.Option(help="USER, MODERATOR or ADMIN.", case_sensitive=False)
    ] = GroupName.USER,
    active: Annotated[
        bool, typer.Option("--active/--inactive", help="Active at once (no activation email).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create an account for scripts and operators; no activation email is sent.

    The password comes from --password-stdin (scripts), else a hidden prompt on a terminal.
    """
    from cinema.accounts import service

    secret = read_password(password, password_stdin)
    user = run(lambda: service.create_user(OPERATOR, email, secret, group, active=active))
    if as_json:
        print_json(user)
        return
    success(
        f"Created user #{user.id} {user.email} ({user.group.value}, {'active' if user.is_active else 'inactive'})."
    )


@app.command("activate")
def activate_user(user: UserArg, as_json: JsonOption = False) -> None:
    """Activate an account by hand (its pending activation link is dropped)."""
    from cinema.accounts import service

    result = run(lambda: service.set_active(OPERATOR, user, True))
    if as_json:
        print_json(result)
        return
    success(f"User #{result.id} {result.email} is active.")


@app.command("deactivate")
def deactivate_user(user: UserArg, as_json: JsonOption = False) -> None:
    """Deactivate an account: it cannot sign in and every session ends at once."""
    from cinema.accounts import service

    result = run(lambda: service.set_active(OPERATOR, user, False))
    if as_json:
        print_json(result)
        return
    success(f"User #{result.id} {result.email} is deactivated; their sessions have ended.")


@app.command("set-group")
def set_group(
    user: UserArg,
    group: Annotated[
        GroupName, typer.Argument(help="USER, MODERATOR or ADMIN.", case_sensitive=False, show_default=False)
    ],
    as_json: JsonOption = False,
) -> None:
    """Move a user to another group (role); Piccolo Admin access follows it."""
    from cinema.accounts import service

    result = run(lambda: service.set_group(OPERATOR, user, group))
    if as_json:
        print_json(result)
        return
    success(f"User #{result.id} {result.email} is now {result.group.value}.")


@app.command("set-password")
def set_password(
    user: UserArg,
    password: PasswordOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
) -> None:
    """Set a user's password: every session of theirs ends (API and admin) and they are emailed.

    The password comes from --password-stdin (scripts), else a hidden prompt on a terminal.
    """
    from cinema.accounts import service

    secret = read_password(password, password_stdin)
    result = run(lambda: service.set_password(OPERATOR, user, secret))
    if as_json:
        print_json(result)
        return
    success(f"Set a new password for user #{result.id} {result.email}; their sessions have ended.")


@app.command("delete")
def delete_user(
    user: UserArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete an account with its profile, sessions, cart and interactions.

    Users with orders or payments cannot be deleted (those records are kept); deactivate them instead.
    """
    if not yes:
        typer.confirm(f"Delete user {user} and everything that belongs to them?", abort=True)
    from cinema.interactions import erasure

    deleted = run(lambda: erasure.delete_user(OPERATOR, user))
    if as_json:
        print_json(deleted)
        return
    success(f"Deleted user #{deleted.id} {deleted.email}.")
