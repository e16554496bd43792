"""`MovieFilters`: one model for the movie lists' filters, used by the API and by `cinema movies list`.

The model validates itself, a minimum above its maximum included, so both
doors refuse the same input with the same answer: 422 `invalid_range` in the
API, the same sentence and code (exit 1) in the CLI.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from cinema.catalog.errors import InvalidRange
from cinema.catalog.queries import FILTER_CONDITIONS
from cinema.catalog.schemas import EntityKind, MovieFilters, SortKey
from tests.cli_support import flat, invoke_cli

SENTENCE = "A range filter's minimum is greater than its maximum."

INVERTED = [
    ({"year_from": 2000, "year_to": 1999}, ["year_from", "year_to"]),
    ({"imdb_min": 8.5, "imdb_max": 8.4}, ["imdb_min", "imdb_max"]),
    ({"price_min": "10.00", "price_max": "9.99"}, ["price_min", "price_max"]),
]


@pytest.mark.parametrize(("values", "fields"), INVERTED)
def test_a_minimum_above_its_maximum_is_invalid_range(values: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(InvalidRange) as inverted:
        MovieFilters.model_validate(values)
    assert (inverted.value.status_code, inverted.value.code, inverted.value.detail) == (
        422,
        "invalid_range",
        SENTENCE,
    )
    assert inverted.value.extra == {"fields": fields}


def test_equal_bounds_and_open_ranges_are_valid() -> None:
    filters = MovieFilters(year_from=1999, year_to=1999, imdb_min=8.0, price_max=Decimal("5"))
    assert (filters.year_from, filters.year_to, filters.imdb_max, filters.price_max) == (
        1999,
        1999,
        None,
        Decimal("5"),
    )


@pytest.mark.parametrize(
    "values",
    [
        {"year": 1500},
        {"imdb_min": 10.5},
        {"price_max": "-1"},
        {"genre_id": 0},
        {"star_id": 2**31},
        {"search": "x" * 201},
        {"search": "bad\x00term"},
        {"sort": "rating"},
    ],
)
def test_values_out_of_bounds_are_validation_errors(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        MovieFilters.model_validate(values)


def test_every_filter_has_its_condition() -> None:
    assert {*FILTER_CONDITIONS, "search", "sort"} == set(MovieFilters.model_fields)


def test_an_entity_list_overrides_the_entitys_filter() -> None:
    base = MovieFilters(genre_id=3, sort=SortKey.NAME)
    assert base.with_entity(EntityKind.GENRES, 5).genre_id == 5
    assert base.with_entity(EntityKind.CERTIFICATIONS, 2).model_dump(exclude_none=True) == {
        "genre_id": 3,
        "certification_id": 2,
        "sort": SortKey.NAME,
    }


@pytest.mark.parametrize(("values", "fields"), INVERTED)
async def test_the_api_answers_invalid_range_on_every_list(
    client: Any, make_user: Any, values: dict[str, Any], fields: list[str]
) -> None:
    user = await make_user()
    for path in ("/movies", "/favorites", "/purchases", "/genres/1/movies", "/stars/1/movies"):
        response = await client.get(path, params=values, headers=user.headers)
        assert response.status_code == 422, (path, response.text)
        assert response.json() == {"detail": SENTENCE, "code": "invalid_range", "fields": fields}, path


async def test_the_api_keeps_validation_errors_for_bad_values(client: Any) -> None:
    response = await client.get("/movies", params={"year_from": "soon", "per_page": 5})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert [e["loc"] for e in body["detail"]] == [["query", "year_from"]]


def test_the_cli_answers_the_same_invalid_range() -> None:
    result = invoke_cli("movies", "list", "--year-from", "2000", "--year-to", "1999")
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == f"Error: {SENTENCE} (invalid_range)"

    prices = invoke_cli("movies", "list", "--price-min", "10", "--price-max", "9.99", "--json")
    assert prices.exit_code == 1
    assert "(invalid_range)" in prices.stderr


def test_the_cli_refuses_values_out_of_bounds_as_usage_errors() -> None:
    result = invoke_cli("movies", "list", "--imdb-min", "11")
    assert result.exit_code == 2
    assert "--imdb-min: Input should be less than or equal to 10" in flat(result.stderr)


def test_the_cli_lists_with_equal_bounds() -> None:
    result = invoke_cli("movies", "list", "--year-from", "1999", "--year-to", "1999", "--json")
    assert result.exit_code == 0, result.output
    assert '"total": 0' in result.stdout
