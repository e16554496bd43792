"""`cinema tokens`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Tokens.", no_args_is_help=True)
