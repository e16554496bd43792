"""`cinema genres|stars|directors|certifications list`: the catalog's named entities with movie counts."""

from __future__ import annotations

from typing import Annotated

import typer

from cinema.catalog.schemas import EntityKind
from cli.common import CinemaTyper, JsonOption, output, run

apps: dict[str, CinemaTyper] = {
    name: CinemaTyper(help=f"{name.title()} of the catalog.", no_args_is_help=True)
    for name in ("genres", "stars", "directors", "certifications")
}

COLUMNS = ["id", "name", "movie_count"]


def _register(kind: EntityKind) -> None:
    sub = apps[kind.value]
    paged = kind in (EntityKind.STARS, EntityKind.DIRECTORS)

    if paged:

        @sub.command("list")
        def list_paged(
            search: Annotated[str | None, typer.Option(help="Substring of the name.")] = None,
            page: Annotated[int, typer.Option(min=1)] = 1,
            per_page: Annotated[int, typer.Option(min=1, max=100)] = 20,
            as_json: JsonOption = False,
        ) -> None:
            """Entries by name with their movie counts (paged)."""
            from cinema.catalog.entities import page_entities
            from cinema.pagination import PageParams

            result = run(lambda: page_entities(kind, PageParams(page=page, per_page=per_page), search))
            output(
                result.items,
                COLUMNS,
                as_json=as_json,
                title=f"{kind.value.title()}: page {result.page} of {result.pages} ({result.total} in all)",
                payload=result,
            )

    else:

        @sub.command("list")
        def list_all(
            search: Annotated[str | None, typer.Option(help="Substring of the name.")] = None,
            as_json: JsonOption = False,
        ) -> None:
            """Every entry by name with its movie count."""
            from cinema.catalog.entities import list_entities

            rows = run(lambda: list_entities(kind, search))
            output(rows, COLUMNS, as_json=as_json, title=f"{kind.value.title()} ({len(rows)})")


for _kind in EntityKind:
    _register(_kind)
