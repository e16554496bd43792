"""Every field of a movie reaches every door (docs/architecture.md, "Adding a field to movies").

A movie's own values are the `movies` columns that neither the system keeps
(ids, times, counters) nor link elsewhere (the certification). They must be the
catalog's `MOVIE_SCALARS`, which the writes, the detail query, the admin's form
and the CLI's options read. These checks fail when a column or a model field
is added without reaching one of the doors.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import typer
from click import Context

from cinema.accounts.actor import GroupName
from cinema.admin.doors import MoviesDoor
from cinema.catalog import movies
from cinema.catalog.queries import CARD_SCALARS, DETAIL_SCALARS
from cinema.catalog.schemas import (
    MOVIE_LISTS,
    MOVIE_SCALARS,
    MovieCreate,
    MovieDetail,
    MovieFilters,
    MovieListItem,
    MovieUpdate,
)
from cinema.catalog.tables import Movie
from cli.main import app
from tests.catalog.conftest import OPERATOR
from tests.cli_support import in_cli_loop, invoke_cli
from tests.ops.admin_helpers import open_admin_session

#: Columns the system keeps: the key, the public id, the times it stamps, the counters it moves.
SYSTEM_COLUMNS = {
    "id",
    "uuid",
    "created_at",
    "updated_at",
    "likes",
    "dislikes",
    "favorites_count",
    "purchases_count",
    "ratings_count",
    "ratings_sum",
    "comments_count",
    "popularity",
}


def _own_columns() -> set[str]:
    return {c._meta.name for c in Movie._meta.columns} - SYSTEM_COLUMNS - {"certification"}


def test_the_own_columns_are_the_models_scalars() -> None:
    assert _own_columns() == set(MOVIE_SCALARS)
    assert set(MovieUpdate.model_fields) == set(MovieCreate.model_fields)
    assert set(MovieCreate.model_fields) == {*MOVIE_SCALARS, "certification", *MOVIE_LISTS}
    assert set(MOVIE_SCALARS) <= set(MovieDetail.model_fields)
    assert {s.name for s in (*CARD_SCALARS, *DETAIL_SCALARS)} == set(MOVIE_SCALARS)
    assert {s.name for s in CARD_SCALARS} == set(MOVIE_SCALARS) & set(MovieListItem.model_fields)


def test_the_admin_form_edits_every_scalar() -> None:
    assert set(MoviesDoor().editable) == {*MOVIE_SCALARS, "certification"}


def _options(*path: str) -> set[str]:
    """The parameter names of the command `cinema <path>`."""
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.get_command(Context(command), name)
    return {param.name for param in command.params if param.name}


def test_the_cli_takes_every_field_and_every_filter() -> None:
    assert _options("movies", "create") == {*MovieCreate.model_fields, "as_json"}
    # Two flags set the rental fields to null, which an option's value cannot (docs/entitlements.md).
    assert _options("movies", "update") == {
        *MovieUpdate.model_fields,
        "movie_id",
        "as_json",
        "no_rental",
        "default_rental_window",
    }
    assert _options("movies", "list") == {*MovieFilters.model_fields, "page", "per_page", "as_json"}


def test_the_cli_shows_and_the_services_answer_every_scalar() -> None:
    created = invoke_cli(
        "movies", "create", "--name", "Field Test", "--year", "2003", "--time", "95", "--imdb", "6.5",
        "--votes", "42", "--meta-score", "55", "--gross", "123.45", "--description", "About fields.",
        "--price", "3.50", "--rental-price", "1.25", "--rental-start-days", "5", "--rental-hours", "36",
        "--certification", "PG", "--genre", "Drama", "--json",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    shown = json.loads(created.stdout)
    expected = {
        "name": "Field Test",
        "year": 2003,
        "time": 95,
        "imdb": 6.5,
        "votes": 42,
        "meta_score": 55.0,
        "gross": "123.45",
        "description": "About fields.",
        "price": "3.50",
        "rental_price": "1.25",
        "rental_start_days": 5,
        "rental_hours": 36,
    }
    assert set(expected) == set(MOVIE_SCALARS)
    assert {name: shown[name] for name in MOVIE_SCALARS} == expected

    detail = in_cli_loop(lambda: movies.get_movie(int(shown["id"])))
    assert {name: getattr(detail, name) for name in MOVIE_SCALARS} == {
        **expected,
        "gross": Decimal("123.45"),
        "price": Decimal("3.50"),
        "rental_price": Decimal("1.25"),
    }
    card = in_cli_loop(lambda: _card(int(shown["id"])))
    assert {s.name: card[s.name] for s in CARD_SCALARS} == {s.name: expected[s.name] for s in CARD_SCALARS}


async def _card(movie_id: int) -> dict[str, Any]:
    from cinema.catalog.queries import list_movies_data
    from cinema.pagination import PageParams

    page = await list_movies_data(MovieFilters(), PageParams())
    [card] = [item for item in page["items"] if item["id"] == movie_id]
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in card.items()}


async def test_the_admin_schema_and_rows_carry_every_scalar(client: Any, make_user: Any) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    created = await movies.create_movie(
        OPERATOR,
        MovieCreate(
            name="Admin Fields", year=2004, time=90, imdb=7.0, price=Decimal("2.00"), certification="PG"
        ),
    )
    await open_admin_session(client, moderator.id)
    schema = (await client.get("/admin/api/tables/movies/schema/")).json()
    assert set(MOVIE_SCALARS) <= set(schema["properties"])
    row = (await client.get(f"/admin/api/tables/movies/{created.id}/")).json()
    assert set(MOVIE_SCALARS) <= set(row)
    assert (row["name"], row["year"]) == ("Admin Fields", 2004)
