"""`cinema refunds`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Refunds.", no_args_is_help=True)
