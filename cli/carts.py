"""`cinema carts`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Carts.", no_args_is_help=True)
