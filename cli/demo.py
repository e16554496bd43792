"""`cinema demo`: the embedded default in one command (README's run command)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from cli.common import console, run

CREDENTIALS_FILE = Path("var/demo-credentials.json")
#: A small hand-written catalog in the IMDb Top 1000 format, shipped with the package.
SAMPLE_CATALOG = Path(__file__).resolve().parents[1] / "cinema" / "catalog" / "data" / "sample_catalog.csv"


def _credentials() -> dict[str, dict[str, str]]:
    """Staff credentials: from env (CINEMA_ADMIN_EMAIL/PASSWORD), kept from a previous run, or new."""
    if CREDENTIALS_FILE.exists():
        saved: dict[str, dict[str, str]] = json.loads(CREDENTIALS_FILE.read_text())
        return saved
    creds = {
        "ADMIN": {
            "email": os.environ.get("CINEMA_ADMIN_EMAIL", "admin@cinema.local"),
            "password": os.environ.get("CINEMA_ADMIN_PASSWORD") or f"Adm1n!{secrets.token_urlsafe(9)}",
        },
        "MODERATOR": {
            "email": os.environ.get("CINEMA_MODERATOR_EMAIL", "moderator@cinema.local"),
            "password": os.environ.get("CINEMA_MODERATOR_PASSWORD") or f"M0d!{secrets.token_urlsafe(9)}",
        },
    }
    CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
    CREDENTIALS_FILE.write_text(json.dumps(creds, indent=2))
    CREDENTIALS_FILE.chmod(0o600)
    return creds


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        no_serve: Annotated[bool, typer.Option("--no-serve", help="Prepare the data, do not serve.")] = False,
        catalog: Annotated[
            Path | None,
            typer.Option(
                help="IMDb-format CSV to load on first run (e.g. ../shared/data/imdb_top_1000.csv). "
                "Default: the small sample catalog shipped with the project.",
                exists=True,
                dir_okay=False,
            ),
        ] = None,
    ) -> None:
        """Migrate, seed staff accounts and a catalog, and serve: the embedded default, ready to try.

        Running it again reuses the database: accounts and movies are only added when missing.
        """
        from cinema.accounts.bootstrap import ensure_user
        from cinema.accounts.tables import GroupName
        from cinema.catalog.importer import import_movies
        from cinema.catalog.tables import Movie
        from cinema.db import migrate

        creds = _credentials()

        async def prepare() -> str:
            await migrate()
            for group in (GroupName.ADMIN, GroupName.MODERATOR):
                await ensure_user(creds[group.value]["email"], creds[group.value]["password"], group)
            if catalog is None and await Movie.count().run():
                return f"{await Movie.count().run()} movies already in the catalog"
            report = await import_movies(catalog or SAMPLE_CATALOG)
            return (
                f"catalog {report.file}: {report.inserted} inserted, {report.updated} updated, "
                f"{report.unchanged} unchanged, {report.rejected} rejected"
            )

        catalog_note = run(prepare)
        base = f"http://{host}:{port}"
        console.print(f"[bold]Cinema[/bold] is ready at {base}")
        console.print(f"  API docs   {base}/docs  (sign in with an account below: HTTP Basic or Authorize)")
        console.print(f"  Admin UI   {base}/admin/")
        for group, c in creds.items():
            console.print(f"  {group.title():<10} {c['email']}  password: {c['password']}")
        console.print(f"  Catalog    {catalog_note}")
        console.print("  Emails     written to var/outbox/ as .eml files (activation links are inside)")
        console.print("  Payments   sandbox gateway: POST /payments/{id}/sandbox/succeed completes a payment")
        console.print(f"  Saved credentials: {CREDENTIALS_FILE}")
        if not no_serve:
            import uvicorn

            uvicorn.run("cinema.api.app:create_app", factory=True, host=host, port=port)
