"""`cinema groups`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Groups.", no_args_is_help=True)
