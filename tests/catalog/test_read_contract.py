"""The catalog's read endpoints answer exactly their documented response models.

`GET /movies` (and the entity, favorites and purchases lists) and `GET
/movies/{id}` encode JSON-ready values straight from SQL rows, without a
validation pass (`cinema.api.responses`). These tests stand in for that pass:
every body must survive a round trip through its response model unchanged
(same keys, same values, same number and money formats), on both engines.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, TypeAdapter

from cinema.accounts.actor import GroupName
from cinema.catalog import movies, queries
from cinema.catalog.schemas import (
    ImportReport,
    MovieCreate,
    MovieFilters,
    MovieListItem,
    MovieUpdate,
    SortKey,
)
from cinema.entitlements.schemas import MovieDetailOut
from cinema.pagination import Page, PageParams
from tests.catalog.conftest import OPERATOR, add_favorite, add_purchase, movie_id

_PAGE: TypeAdapter[Page[MovieListItem]] = TypeAdapter(Page[MovieListItem])


def assert_round_trip(body: dict[str, Any], model: type[BaseModel] | TypeAdapter[Any]) -> None:
    """`body` equals itself validated by `model` and dumped back to JSON values."""
    if isinstance(model, TypeAdapter):
        again = model.dump_python(model.validate_python(body), mode="json")
    else:
        again = model.model_validate(body).model_dump(mode="json")
    assert body == again


async def test_every_list_and_detail_shape_matches_its_model(
    imdb: ImportReport, client: Any, make_user: Any
) -> None:
    me = await make_user()
    godfather = await movie_id("The Godfather")
    await add_favorite(me.id, godfather)
    await add_purchase(me.id, await movie_id("The Shawshank Redemption"))
    lists = [
        ("/movies", {"per_page": 100}),
        ("/movies", {"sort": "-imdb"}),
        ("/movies", {"sort": "price", "page": 3}),
        ("/movies", {"search": "De Niro", "year_from": 1970, "imdb_min": 7.5}),
        ("/movies", {"page": 999}),  # past the end: no items, the true total
        ("/genres/1/movies", {}),
        ("/favorites", {}),
        ("/purchases", {}),
    ]
    for path, params in lists:
        response = await client.get(path, params=params, headers=me.headers)
        assert response.status_code == 200, (path, params, response.text)
        assert response.headers["content-type"] == "application/json"
        assert_round_trip(response.json(), _PAGE)
    catalog = (await client.get("/movies", params={"per_page": 100})).json()
    assert catalog["total"] == 1000
    assert len(catalog["items"]) == 100
    for item in catalog["items"][:40]:
        anonymous = (await client.get(f"/movies/{item['id']}")).json()
        assert_round_trip(anonymous, MovieDetailOut)
        # The list's card is the detail's first fields, value for value.
        assert {k: anonymous[k] for k in item} == item
    mine = (await client.get(f"/movies/{godfather}", headers=me.headers)).json()
    assert_round_trip(mine, MovieDetailOut)
    assert (mine["is_favorite"], mine["is_purchased"], mine["my_rating"]) == (True, False, None)


async def test_the_python_services_and_the_api_agree(imdb: ImportReport, client: Any) -> None:
    filters = MovieFilters(search="Nolan", sort=SortKey("-year"))
    page = await queries.list_movies(filters, PageParams(page=1, per_page=5))
    body = (await client.get("/movies", params={"search": "Nolan", "sort": "-year", "per_page": 5})).json()
    assert page.model_dump(mode="json") == body
    assert [item.name for item in page.items][:2] == ["Dunkirk", "Interstellar"]
    inception = await movie_id("Inception")
    detail = await movies.get_movie(inception)
    # The API's detail adds the caller's `access` (null when anonymous) from the entitlements.
    assert {**detail.model_dump(mode="json"), "access": None} == (
        await client.get(f"/movies/{inception}")
    ).json()
    assert detail.price == Decimal("14.99")


async def test_money_keeps_two_decimals(client: Any) -> None:
    """Round amounts (SQLite stores 7.70 as the float 7.7) still read as "7.70"."""
    created = await movies.create_movie(
        OPERATOR,
        MovieCreate(
            name="Two Decimals",
            year=2001,
            time=90,
            imdb=7.1,
            gross=Decimal("1000.50"),
            price=Decimal("7.70"),
            certification="PG",
            genres=["Drama"],
        ),
    )
    detail = (await client.get(f"/movies/{created.id}")).json()
    assert (detail["price"], detail["gross"], detail["imdb"]) == ("7.70", "1000.50", 7.1)
    listed = (await client.get("/movies", params={"search": "Two Decimals"})).json()["items"]
    assert [(i["price"], i["imdb"], i["genres"][0]["name"]) for i in listed] == [("7.70", 7.1, "Drama")]
    await movies.update_movie(OPERATOR, created.id, MovieUpdate(price=Decimal("10")))
    assert (await client.get(f"/movies/{created.id}")).json()["price"] == "10.00"
    relisted = (await client.get("/movies", params={"search": "Two Decimals"})).json()["items"]
    assert relisted[0]["price"] == "10.00"


async def _create(client: Any, moderator: Any, name: str, **fields: Any) -> int:
    body = {"name": name, "year": 2001, "time": 90, "imdb": 7.0, "price": "5.00", "certification": "PG"}
    response = await client.post("/movies", json={**body, **fields}, headers=moderator.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_rating_shown_is_a_bound_that_finds_it(client: Any, make_user: Any) -> None:
    """imdb/meta_score typed with many digits: the value shown, given back as a filter, matches.

    PostgreSQL stores REAL as float4; what is shown is the shortest decimal of that
    float4 (7.123456789 -> 7.123457), not a 6-digit rounding that the filter misses.
    """
    moderator = await make_user(group=GroupName.MODERATOR)
    typed = {"Precise": 7.123456789, "Third": 1 / 3, "Nines": 9.9999999}
    for name, imdb in typed.items():
        await _create(client, moderator, name, imdb=imdb, meta_score=99.99999)
    for name in typed:
        (item,) = (await client.get("/movies", params={"search": name})).json()["items"]
        shown = item["imdb"]
        assert abs(shown - typed[name]) < 1e-6
        found = await client.get("/movies", params={"search": name, "imdb_min": shown, "imdb_max": shown})
        assert [i["name"] for i in found.json()["items"]] == [name], (name, shown)
        detail = (await client.get(f"/movies/{item['id']}")).json()
        assert (detail["imdb"], detail["meta_score"]) == (shown, item["meta_score"])
        assert abs(detail["meta_score"] - 99.99999) < 1e-5


async def test_imdb_sort_is_the_same_whatever_the_page_size(client: Any, make_user: Any) -> None:
    """Near-equal ratings: the order of `sort=imdb` does not depend on `per_page`."""
    moderator = await make_user(group=GroupName.MODERATOR)
    for name, imdb in (
        ("Tie A", 7.123456789),
        ("Tie B", 7.1234565),
        ("Tie C", 7.123456),
        ("Tie D", 7.1234565),
    ):
        await _create(client, moderator, name, imdb=imdb)
    for sort in ("imdb", "-imdb"):
        params = {"search": "Tie ", "sort": sort}
        whole = [
            i["name"] for i in (await client.get("/movies", params={**params, "per_page": 4})).json()["items"]
        ]
        paged = [
            (await client.get("/movies", params={**params, "per_page": 1, "page": page})).json()["items"][0][
                "name"
            ]
            for page in (1, 2, 3, 4)
        ]
        assert whole == paged, sort
        assert len(set(whole)) == 4


async def test_price_bounds_are_whole_cents_and_absurd_exponents_are_harmless(
    client: Any, make_user: Any
) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    await _create(client, moderator, "Cheap", price="9.99")
    await _create(client, moderator, "Ten", price="10.00")

    async def names(**params: Any) -> list[str]:
        response = await client.get("/movies", params={**params, "sort": "price"})
        assert response.status_code == 200, (params, response.text)
        return [i["name"] for i in response.json()["items"]]

    assert await names(price_min="9.991") == ["Ten"]
    assert await names(price_max="9.999") == ["Cheap"]
    assert await names(price_min="9.99", price_max="10") == ["Cheap", "Ten"]
    # Exponents beyond NUMERIC's range, which asyncpg cannot encode, are clamped first.
    assert await names(price_min="1e-999999999") == ["Cheap", "Ten"]
    assert await names(price_max="0E+999999999") == []
    assert await names(price_min="0E-999999999", price_max="1e-20000") == []
    assert (await client.get("/genres/1/movies", params={"price_min": "1e-20000"})).status_code in (200, 404)
