"""`cinema entitlements`: grant (one, or many from a file), revoke and list rights to watch.

Each command calls one service function of `cinema.entitlements`, as the
operator (ADMIN rights; recorded as no user). A bulk grant reads CSV with the
header `user,movie[,days]` or JSON lines from a file or standard input (`-`),
shows a progress bar on a terminal, prints a report of the lines that failed
(line, input, error code and sentence) and exits 1 when any did
(docs/entitlements.md, "Bulk grants").
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cinema.entitlements.tables import EntitlementSource
from cinema.pagination import PageParams
from cli.common import (
    OPERATOR,
    CinemaTyper,
    JsonOption,
    console,
    err_console,
    output,
    print_json,
    run,
    success,
)
from cli.params import id_argument, parse_id, parse_user

if TYPE_CHECKING:
    from cinema.entitlements.schemas import EntitlementOut, GrantReport

app = CinemaTyper(help="Rights to watch: grant (one or a file of many), revoke, list.", no_args_is_help=True)

COLUMNS = ["id", "user_id", "movie_id", "source", "status", "expires_at", "reason"]
#: Failures printed in the table; `--json` gives all of them.
FAILURES_SHOWN = 200

DAYS_MAX = 36500
ReasonOption = Annotated[str, typer.Option("--reason", help="Why, for the record (1 to 500 characters).")]


def _row(item: EntitlementOut) -> dict[str, Any]:
    return {
        **item.model_dump(mode="json"),
        "reason": item.revoke_reason if item.revoked_at else item.grant_reason,
    }


@app.command("grant")
def grant(
    reason: ReasonOption,
    user: Annotated[
        Any, typer.Option("--user", parser=parse_user, metavar="EMAIL_OR_ID", help="The user (id or email).")
    ] = None,
    movie: Annotated[
        Any, typer.Option("--movie", parser=parse_id, metavar="ID", help="The movie id.")
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=DAYS_MAX,
            help="Access ends after this many days (default: forever); with --file, "
            "for the lines that give no days.",
        ),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            metavar="PATH|-",
            help="Grant every line of a CSV file (header user,movie[,days]) or JSON lines; - reads stdin.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --file: check every line, write nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Let a user watch a movie (forever, or for --days), or every user-movie line of --file."""
    if file is not None:
        if user is not None or movie is not None:
            raise typer.BadParameter(
                "give either --file or --user and --movie, not both.", param_hint="--file"
            )
        _grant_file(file, reason=reason, days=days, dry_run=dry_run, as_json=as_json)
        return
    if dry_run:
        raise typer.BadParameter("--dry-run goes with --file.", param_hint="--dry-run")
    if user is None or movie is None:
        raise typer.BadParameter("name the user and the movie (or give --file).", param_hint="--user/--movie")
    from cinema import clock
    from cinema.entitlements import service

    def call() -> Any:
        expires = None if days is None else clock.utcnow() + timedelta(days=days)
        return service.grant(OPERATOR, user, movie, reason=reason, expires_at=expires)

    done = run(call)
    if as_json:
        print_json(done)
        return
    until = f"until {done.expires_at:%Y-%m-%d %H:%M} UTC" if done.expires_at else "forever"
    success(f"Granted #{done.id}: user {done.user_id} may watch movie {done.movie_id} {until}.")


def _read_input(file: str) -> str:
    if file == "-":
        return sys.stdin.read()
    path = Path(file)
    if not path.is_file():
        raise typer.BadParameter(f"{file!r} is not a readable file.", param_hint="--file")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {file!r}: {exc}.", param_hint="--file") from None


def _grant_file(file: str, *, reason: str, days: int | None, dry_run: bool, as_json: bool) -> None:
    from cinema.entitlements import bulk

    lines = bulk.parse(_read_input(file))  # a file that is not CSV or JSON lines: exit 1, one line

    def call(progress: Any = None) -> Any:
        return bulk.grant_many(
            OPERATOR, lines, reason=reason, default_days=days, dry_run=dry_run, progress=progress
        )

    if console.is_terminal and not as_json:
        with Progress(
            TextColumn("[bold]Checking[/bold]" if dry_run else "[bold]Granting[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("grant", total=len(lines))
            report = run(lambda: call(lambda done, total: bar.update(task, completed=done, total=total)))
    else:
        report = run(call)
    if as_json:
        print_json(report)
    else:
        _print_report(report)
    if report.failed:
        raise typer.Exit(1)


def _print_report(report: GrantReport) -> None:
    if report.failures:
        table = Table(title="Lines not granted", title_style="bold red")
        for column in ("line", "input", "code", "why"):
            table.add_column(column)
        for failure in report.failures[:FAILURES_SHOWN]:
            why = failure.detail + (f" ({failure.problem})" if failure.problem else "")
            table.add_row(str(failure.line), escape(failure.input), failure.code, escape(why))
        console.print(table)
        if len(report.failures) > FAILURES_SHOWN:
            console.print(f"... and {len(report.failures) - FAILURES_SHOWN} more (use --json for all).")
    if report.dry_run:
        console.print(
            f"Dry run: {report.granted} of {report.lines} line(s) would be granted, "
            f"{report.failed} would fail; nothing was written."
        )
    elif report.failed:
        err_console.print(
            f"[yellow]{report.granted} of {report.lines} line(s) granted; {report.failed} failed "
            f"(listed above), the others stand.[/yellow]"
        )
    else:
        success(f"Granted all {report.granted} line(s) in {report.seconds:.2f} s.")


@app.command("revoke")
def revoke(
    entitlement: Annotated[int, id_argument("Entitlement id.", metavar="ID")],
    reason: ReasonOption,
    as_json: JsonOption = False,
) -> None:
    """End a grant or a rental now (a purchase ends through a refund of its order)."""
    from cinema.entitlements import service

    done = run(lambda: service.revoke(OPERATOR, entitlement, reason=reason))
    if as_json:
        print_json(done)
        return
    success(f"Revoked #{done.id}: user {done.user_id} may no longer watch movie {done.movie_id} through it.")


@app.command("list")
def list_(
    user: Annotated[
        Any, typer.Option("--user", parser=parse_user, metavar="EMAIL_OR_ID", help="Only this user's.")
    ] = None,
    movie: Annotated[
        Any, typer.Option("--movie", parser=parse_id, metavar="ID", help="Only this movie's.")
    ] = None,
    source: Annotated[
        EntitlementSource | None, typer.Option(help="purchase, rental or grant.", case_sensitive=False)
    ] = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Only live ones / only ended ones.", show_default=False),
    ] = None,
    page: Annotated[int, typer.Option(min=1, help="Page number, from 1.")] = 1,
    per_page: Annotated[int, typer.Option("--per-page", min=1, max=100, help="Rows per page, 1..100.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Entitlements, newest first (same filters as GET /entitlements)."""
    from cinema.entitlements import service

    result = run(
        lambda: service.list_entitlements(
            OPERATOR, PageParams(page, per_page), user=user, movie_id=movie, source=source, active=active
        )
    )
    if as_json:
        print_json(result)
        return
    output(
        [_row(item) for item in result.items],
        COLUMNS,
        as_json=False,
        title=f"Entitlements (page {result.page} of {max(result.pages, 1)}, {result.total} in all)",
    )
