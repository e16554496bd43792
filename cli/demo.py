"""`cinema demo`: the embedded default in one command (README's run command)."""

from __future__ import annotations

import json
import os
import secrets
import socket
from pathlib import Path
from typing import Annotated

import typer

from cli.common import console, err_console, run

CREDENTIALS_FILE = Path("var/demo-credentials.json")


def _credentials() -> dict[str, dict[str, str]]:
    """Staff credentials: kept from a previous successful run, else from env
    (CINEMA_ADMIN_EMAIL/PASSWORD, CINEMA_MODERATOR_EMAIL/PASSWORD), else new random ones."""
    if CREDENTIALS_FILE.exists():
        saved: dict[str, dict[str, str]] = json.loads(CREDENTIALS_FILE.read_text())
        return saved
    return {
        "ADMIN": {
            "email": os.environ.get("CINEMA_ADMIN_EMAIL", "admin@cinema.local"),
            "password": os.environ.get("CINEMA_ADMIN_PASSWORD") or f"Adm1n!{secrets.token_urlsafe(9)}",
        },
        "MODERATOR": {
            "email": os.environ.get("CINEMA_MODERATOR_EMAIL", "moderator@cinema.local"),
            "password": os.environ.get("CINEMA_MODERATOR_PASSWORD") or f"M0d!{secrets.token_urlsafe(9)}",
        },
    }


def _save_credentials(creds: dict[str, dict[str, str]]) -> None:
    CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
    CREDENTIALS_FILE.write_text(json.dumps(creds, indent=2))
    CREDENTIALS_FILE.chmod(0o600)


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _choose_sandbox_unless_configured() -> None:
    """The demo pays through the sandbox gateway unless a gateway is configured (env or .env).

    The sandbox is never a silent default (it lets customers mark their own
    payments successful): the demo chooses it by name, for itself and the
    server it starts. Invalid settings (e.g. production) are left to fail as usual.
    """
    from pydantic import ValidationError

    from cinema.config import get_settings

    try:
        settings = get_settings()
    except ValidationError:
        return
    if settings.gateway is None and settings.environment != "production":
        os.environ["PAYMENT_GATEWAY"] = "sandbox"
        get_settings.cache_clear()


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        no_serve: Annotated[bool, typer.Option("--no-serve", help="Prepare the data, do not serve.")] = False,
        catalog: Annotated[
            Path | None,
            typer.Option(
                help="IMDb-format CSV to import (merged into the catalog; e.g. the IMDb Top 1000). "
                "Default: the small sample catalog shipped with the project, on first run only.",
                exists=True,
                dir_okay=False,
            ),
        ] = None,
        media: Annotated[
            int,
            typer.Option(
                min=0,
                help="How many top-rated movies get a generated feature, trailer and poster "
                "(made locally with PyAV; movies that have a feature are skipped).",
            ),
        ] = 3,
    ) -> None:
        """Migrate, seed staff accounts and a catalog, and serve: the embedded default, ready to try.

        Running it again reuses the database (var/cinema.sqlite): accounts and the sample
        catalog are only added when missing. Delete var/ to start over.
        """
        if not no_serve and not _port_is_free(host, port):
            err_console.print(
                f"[red]Error:[/red] {host}:{port} is already in use. Choose another with --port."
            )
            raise typer.Exit(1)
        # Links in emails must point at this server unless the operator set them.
        os.environ.setdefault("PUBLIC_BASE_URL", f"http://{host}:{port}")

        from cinema.accounts.actor import GroupName
        from cinema.accounts.bootstrap import ensure_user
        from cinema.accounts.schemas import account_email
        from cinema.catalog.importer import SAMPLE_CATALOG, import_movies
        from cinema.catalog.tables import Movie
        from cinema.config import get_settings
        from cinema.migrations import migrate

        get_settings.cache_clear()
        _choose_sandbox_unless_configured()
        creds = _credentials()
        for group_name, given in creds.items():
            # The staff emails follow the account rule of every door (cli.params).
            try:
                given["email"] = account_email(given["email"])
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint=f"CINEMA_{group_name}_EMAIL") from None

        async def prepare() -> str:
            await migrate()
            for group in (GroupName.ADMIN, GroupName.MODERATOR):
                await ensure_user(creds[group.value]["email"], creds[group.value]["password"], group)
            count = await Movie.count().run()
            if catalog is None and count:
                return f"{count} movies already in the catalog"
            report = await import_movies(catalog or SAMPLE_CATALOG)
            source = catalog.name if catalog else "sample catalog"
            return (
                f"{source}: {report.inserted} inserted, {report.updated} updated, "
                f"{report.unchanged} unchanged, {report.rejected} rejected"
            )

        async def prepare_media() -> str:
            from cinema.media.demo import attach_demo_media

            added = await attach_demo_media(media)
            return (
                f"feature, trailer and poster generated for movies {added}" if added else "already attached"
            )

        catalog_note = run(prepare)
        media_note = run(prepare_media) if media else "none (--media 0)"
        _save_credentials(creds)  # only once they were accepted
        settings = get_settings()
        base = f"http://{host}:{port}"
        lines = [
            (
                f"[bold]Cinema[/bold] starts at {base}: requests work once uvicorn prints "
                "'Application startup complete'"
                if not no_serve
                else "[bold]Cinema[/bold] data is ready (not serving)"
            ),
            f"  API docs   {base}/docs  (sign in with any active account: HTTP Basic, or Authorize)",
            f"  Admin UI   {base}/admin/  (staff accounts below)",
            *(f"  {g.title():<10} {c['email']}  password: {c['password']}" for g, c in creds.items()),
            f"  Catalog    {catalog_note}",
            f"  Media      {media_note}; GET /movies/{{id}}/trailer plays for anyone",
            f"  Emails     written to {settings.mail_outbox_dir}/ as .eml files (activation tokens inside)",
            (
                "  Payments   sandbox gateway: POST /payments/{id}/sandbox/succeed completes a payment"
                if settings.uses_sandbox
                else f"  Payments   {settings.gateway or 'not configured (payments answer 503)'}"
            ),
            f"  Database   {settings.database_url}  (credentials kept in {CREDENTIALS_FILE})",
        ]
        for line in lines:
            console.print(line, soft_wrap=True)
        if not no_serve:
            import uvicorn

            uvicorn.run("cinema.api.app:create_app", factory=True, host=host, port=port)
