"""`cinema orders`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Orders.", no_args_is_help=True)
