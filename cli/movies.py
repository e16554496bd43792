"""`cinema movies`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Movies.", no_args_is_help=True)
