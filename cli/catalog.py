"""`cinema genres|stars|directors|certifications`."""

from __future__ import annotations

import typer

apps: dict[str, typer.Typer] = {
    name: typer.Typer(help=f"{name.title()} of the catalog.", no_args_is_help=True)
    for name in ("genres", "stars", "directors", "certifications")
}
