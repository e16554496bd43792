"""`cinema db`: schema migrations."""

from __future__ import annotations

import typer

from cli.common import run, success

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command()
def migrate() -> None:
    """Apply every pending migration (safe to run again)."""
    from cinema.db import migrate as apply

    run(apply)
    success("Database is up to date.")
