"""`cinema db`: schema migrations."""

from __future__ import annotations

from cli.common import CinemaTyper, console, run, success

app = CinemaTyper(help="Database schema.", no_args_is_help=True)


@app.command()
def migrate() -> None:
    """Apply every pending migration (safe to run again)."""
    from cinema.migrations import migrate as apply

    applied = run(apply)
    for migration_id in applied:
        console.print(f"  applied {migration_id}")
    success(
        f"Applied {len(applied)} migration(s); the database is up to date."
        if applied
        else "Database is up to date."
    )
