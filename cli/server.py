"""`cinema serve`, `cinema worker`, `cinema scheduler`: the long-running processes."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from cli.common import InfrastructureError


def register(app: typer.Typer) -> None:
    """Add the process commands to the root app."""

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
        reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
    ) -> None:
        """Serve the HTTP API (uvicorn)."""
        import uvicorn

        from cinema.config import settings_or_exit

        settings_or_exit()  # unsafe or invalid settings: one line, exit 3, before uvicorn starts

        uvicorn.run(
            "cinema.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            reload=reload,
            proxy_headers=True,
        )

    @app.command()
    def worker(
        workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    ) -> None:
        """Run taskiq workers (needs REDIS_URL): emails and scheduled cleanup."""
        _require_redis()
        os.execvp(
            sys.executable,
            [sys.executable, "-m", "taskiq", "worker", "cinema.tasks:broker", "--workers", str(workers)],
        )

    @app.command()
    def scheduler() -> None:
        """Run the taskiq scheduler (needs REDIS_URL): enqueues the hourly token purge."""
        _require_redis()
        os.execvp(sys.executable, [sys.executable, "-m", "taskiq", "scheduler", "cinema.tasks:scheduler"])


def _require_redis() -> None:
    from cinema.config import get_settings

    if not get_settings().redis_url:
        raise InfrastructureError(
            "REDIS_URL is not set: without a broker, tasks run inside the API process "
            "and no separate worker is needed."
        )
