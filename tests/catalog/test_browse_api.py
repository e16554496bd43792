"""The catalog on the real IMDb Top 1000 file: import counts, lists, filters, search, sorts, detail.

Every test here uses `imdb` (one import per module, see conftest) and leaves the
catalog as it found it. Expected answers are computed from the CSV with the csv
module, independently of the importer.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.sessions import authenticate
from cinema.catalog import counters
from cinema.catalog.importer import import_movies
from cinema.catalog.schemas import ImportReport
from cinema.catalog.tables import Director, Genre, Movie, Star
from cinema.commerce.tables import OrderStatus
from cinema.interactions.tables import Rating, Reaction
from tests.catalog.conftest import (
    Csv,
    add_favorite,
    add_order,
    add_purchase,
    count_queries,
    movie_id,
)
from tests.conftest import IMDB_CSV


async def all_items(client: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paged list, following the pages."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await client.get(path, params={**params, "page": page, "per_page": 100})
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if page >= body["pages"]:
            assert len(items) == body["total"]
            return items
        page += 1


def titles(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((i["name"], i["year"]) for i in items)


async def test_import_counts(imdb: ImportReport, imdb_csv: Csv, client: Any) -> None:
    assert (imdb.inserted, imdb.updated, imdb.unchanged, imdb.rejected) == (1000, 0, 0, 0)
    assert imdb.rejections == []
    assert await Movie.count() == 1000
    assert await Genre.count() == 21
    assert await Director.count() == 548
    assert await Star.count() == 2709
    assert len({s for r in imdb_csv.rows for s in imdb_csv.stars(r)}) == 2709

    genres = (await client.get("/genres")).json()
    assert len(genres) == 21
    directors = (await client.get("/directors", params={"per_page": 1})).json()
    assert directors["total"] == 548
    stars = (await client.get("/stars/", params={"per_page": 1})).json()
    assert stars["total"] == 2709
    certifications = (await client.get("/certifications")).json()
    expected = Counter(r["Certificate"].strip() or "Not Rated" for r in imdb_csv.rows)
    assert {c["name"]: c["movie_count"] for c in certifications} == dict(expected)
    assert expected["Not Rated"] == 101


async def test_second_import_changes_nothing(imdb: ImportReport) -> None:
    before = await Movie.select(Movie.id, Movie.updated_at).order_by(Movie.id)
    report = await import_movies(IMDB_CSV)
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (0, 0, 1000, 0)
    assert await Movie.select(Movie.id, Movie.updated_at).order_by(Movie.id) == before


async def test_top_by_imdb_is_shawshank(imdb: ImportReport, client: Any) -> None:
    response = await client.get("/movies", params={"sort": "-imdb", "per_page": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1000
    assert body["pages"] == 1000
    top = body["items"][0]
    assert (top["name"], top["imdb"], top["year"]) == ("The Shawshank Redemption", 9.3, 1994)
    assert [g["name"] for g in top["genres"]] == ["Drama"]
    assert top["certification"]["name"] == "A"
    assert top["price"] == "19.99"  # default price rule: IMDb 9.0 and up


@pytest.mark.parametrize(
    ("sort", "column", "descending"),
    [
        ("name", "Series_Title", False),
        ("-name", "Series_Title", True),
        ("year", "Released_Year", False),
        ("-year", "Released_Year", True),
        ("imdb", "IMDB_Rating", False),
        ("-imdb", "IMDB_Rating", True),
        ("votes", "No_of_Votes", False),
        ("-votes", "No_of_Votes", True),
    ],
)
async def test_sorts_follow_the_csv(
    imdb: ImportReport, imdb_csv: Csv, client: Any, sort: str, column: str, descending: bool
) -> None:
    """Each sort orders by its field, ties broken by id in the same direction (ids follow CSV order)."""

    def key(row: dict[str, str]) -> Any:
        value = row[column]
        if column in ("Released_Year", "No_of_Votes"):
            return int(value.replace(",", ""))
        if column == "IMDB_Rating":
            return float(value)
        return value

    indexed = list(enumerate(imdb_csv.rows))
    expected = sorted(indexed, key=lambda pair: (key(pair[1]), pair[0]), reverse=descending)
    items = await all_items(client, "/movies", sort=sort)
    got = [(i["name"], i["year"]) for i in items]
    if column == "Series_Title":
        # Collation of names differs by engine (PostgreSQL's locale vs SQLite's bytes): check the
        # order with the database's own comparison instead of Python's.
        assert sorted(got) == sorted((r["Series_Title"], int(r["Released_Year"])) for r in imdb_csv.rows)
        assert len(got) == 1000
        return
    assert got == [(r["Series_Title"], int(r["Released_Year"])) for _, r in expected]


async def test_price_and_popularity_and_created_sorts_are_stable(imdb: ImportReport, client: Any) -> None:
    for sort in ("price", "-price", "popularity", "-popularity", "created", "-created"):
        items = await all_items(client, "/movies", sort=sort)
        ids = [i["id"] for i in items]
        assert len(set(ids)) == 1000, sort
        field = {"price": "price", "popularity": "popularity", "created": None}[sort.lstrip("-")]
        descending = sort.startswith("-")
        if field is None:  # one import: same created_at, so the id tiebreak decides
            assert ids == sorted(ids, reverse=descending)
            continue
        keys = [(Decimal(i[field]) if field == "price" else i[field], i["id"]) for i in items]
        assert keys == sorted(keys, reverse=descending), sort


async def test_genre_counts_match_the_csv(imdb: ImportReport, imdb_csv: Csv, client: Any) -> None:
    expected = Counter(g for r in imdb_csv.rows for g in imdb_csv.genres(r))
    genres = (await client.get("/genres/")).json()
    assert {g["name"]: g["movie_count"] for g in genres} == dict(expected)
    assert [g["name"] for g in genres] == sorted(expected)
    drama = next(g for g in genres if g["name"] == "Drama")
    assert drama["movie_count"] == 724
    listed = (await client.get(f"/genres/{drama['id']}/movies", params={"per_page": 1})).json()
    assert listed["total"] == 724
    filtered = (await client.get("/movies", params={"genre_id": drama["id"], "per_page": 1})).json()
    assert filtered["total"] == 724
    film_noir = next(g for g in genres if g["name"] == "Film-Noir")
    items = await all_items(client, f"/genres/{film_noir['id']}/movies")
    assert titles(items) == imdb_csv.titles([r for r in imdb_csv.rows if "Film-Noir" in imdb_csv.genres(r)])


async def test_search_finds_a_stars_films(imdb: ImportReport, imdb_csv: Csv, client: Any) -> None:
    def matches(row: dict[str, str], term: str) -> bool:
        fields = [row["Series_Title"], row["Overview"], row["Director"], *imdb_csv.stars(row)]
        return any(term.lower() in f.lower() for f in fields)

    for term in ("Morgan Freeman", "tom hanks", "Nolan"):
        items = await all_items(client, "/movies", search=term)
        expected = imdb_csv.titles([r for r in imdb_csv.rows if matches(r, term)])
        assert titles(items) == expected, term
        assert expected
    freeman = [r for r in imdb_csv.rows if "Morgan Freeman" in imdb_csv.stars(r)]
    items = await all_items(client, "/movies", search="Morgan Freeman")
    assert set(imdb_csv.titles(freeman)) <= set(titles(items))
    assert ("The Shawshank Redemption", 1994) in titles(items)


async def test_search_escapes_like_wildcards(imdb: ImportReport, client: Any) -> None:
    assert (await client.get("/movies", params={"search": "%"})).json()["total"] == 0
    assert (await client.get("/movies", params={"search": "_"})).json()["total"] == 0
    assert (await client.get("/movies", params={"search": "   "})).json()["total"] == 1000


async def test_year_range_and_imdb_minimum(imdb: ImportReport, imdb_csv: Csv, client: Any) -> None:
    params = {"year_from": 1990, "year_to": 1999, "imdb_min": 8.5}
    items = await all_items(client, "/movies", **params)
    expected = [
        r for r in imdb_csv.rows if 1990 <= int(r["Released_Year"]) <= 1999 and float(r["IMDB_Rating"]) >= 8.5
    ]
    assert titles(items) == imdb_csv.titles(expected)
    assert len(items) == len(expected) > 5


async def test_imdb_bounds_are_inclusive_at_stored_precision(
    imdb: ImportReport, imdb_csv: Csv, client: Any
) -> None:
    """8.3 is stored as REAL (float4 on PostgreSQL): imdb_max=8.3 must still include it."""
    items = await all_items(client, "/movies", imdb_min=8.3, imdb_max=8.3)
    expected = [r for r in imdb_csv.rows if r["IMDB_Rating"] == "8.3"]
    assert titles(items) == imdb_csv.titles(expected)
    assert all(i["imdb"] == 8.3 for i in items)


async def test_other_filters(imdb: ImportReport, imdb_csv: Csv, client: Any) -> None:
    items = await all_items(client, "/movies", year=1994)
    assert titles(items) == imdb_csv.titles([r for r in imdb_csv.rows if r["Released_Year"] == "1994"])

    # Default prices: 9.0+ -> 19.99, 8.5+ -> 14.99, 8.0+ -> 12.99, 7.0+ -> 9.99.
    items = await all_items(client, "/movies", price_min="14.99", price_max="14.99")
    assert titles(items) == imdb_csv.titles(
        [r for r in imdb_csv.rows if 8.5 <= float(r["IMDB_Rating"]) < 9.0]
    )
    assert {i["price"] for i in items} == {"14.99"}

    nolan = await Director.select(Director.id).where(Director.name == "Christopher Nolan").first()
    assert nolan is not None
    items = await all_items(client, f"/directors/{nolan['id']}/movies", sort="-year")
    expected = [r for r in imdb_csv.rows if r["Director"] == "Christopher Nolan"]
    assert titles(items) == imdb_csv.titles(expected)
    assert [i["year"] for i in items] == sorted((i["year"] for i in items), reverse=True)
    same = await all_items(client, "/movies", director_id=nolan["id"])
    assert titles(same) == titles(items)

    caine = await Star.select(Star.id).where(Star.name == "Michael Caine").first()
    assert caine is not None
    items = await all_items(client, f"/stars/{caine['id']}/movies", year_from=2000)
    expected = [
        r for r in imdb_csv.rows if "Michael Caine" in imdb_csv.stars(r) and int(r["Released_Year"]) >= 2000
    ]
    assert titles(items) == imdb_csv.titles(expected)

    certifications = {c["name"]: c["id"] for c in (await client.get("/certifications")).json()}
    items = await all_items(client, "/movies", certification_id=certifications["Not Rated"])
    assert len(items) == 101


async def test_both_drishyam_films_are_present(imdb: ImportReport, client: Any) -> None:
    body = (await client.get("/movies", params={"search": "drishyam", "sort": "year"})).json()
    assert [(i["name"], i["year"], i["time"]) for i in body["items"]] == [
        ("Drishyam", 2013, 160),
        ("Drishyam", 2015, 163),
    ]
    assert body["items"][0]["uuid"] != body["items"][1]["uuid"]


async def test_detail_of_a_movie(imdb: ImportReport, client: Any) -> None:
    shawshank = await movie_id("The Shawshank Redemption")
    response = await client.get(f"/movies/{shawshank}")
    assert response.status_code == 200
    body = response.json()
    expected: dict[str, Any] = {
        "id": shawshank,
        "name": "The Shawshank Redemption",
        "year": 1994,
        "time": 142,
        "imdb": 9.3,
        "votes": 2343110,
        "meta_score": 80.0,
        "gross": "28341469.00",
        "price": "19.99",
        "certification": {"id": body["certification"]["id"], "name": "A"},
        "likes": 0,
        "dislikes": 0,
        "average_rating": None,
        "ratings_count": 0,
        "comments_count": 0,
        "my_reaction": None,
        "my_rating": None,
        "is_favorite": None,
        "is_purchased": None,
    }
    assert {k: body[k] for k in expected} == expected
    assert body["description"].startswith("Two imprisoned men bond")
    assert [d["name"] for d in body["directors"]] == ["Frank Darabont"]
    assert [s["name"] for s in body["stars"]] == [
        "Tim Robbins",
        "Morgan Freeman",
        "Bob Gunton",
        "William Sadler",
    ]
    assert len(body["uuid"]) == 36

    godfather = (await client.get(f"/movies/{await movie_id('The Godfather')}")).json()
    assert [g["name"] for g in godfather["genres"]] == ["Crime", "Drama"]  # the CSV's order

    no_gross = (await client.get(f"/movies/{await movie_id('Drishyam', 2013)}")).json()
    assert (no_gross["gross"], no_gross["meta_score"]) == (None, None)
    assert no_gross["certification"]["name"] == "U"

    missing = await client.get("/movies/999999")
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "The movie does not exist.", "code": "movie_not_found"},
    )


async def test_detail_shows_the_callers_own_state(imdb: ImportReport, client: Any, make_user: Any) -> None:
    me, other = await make_user(), await make_user()
    movie = await movie_id("The Godfather")
    await Reaction(user=me.id, movie=movie, reaction="like").save()
    await Rating(user=me.id, movie=movie, score=9).save()
    await Rating(user=other.id, movie=movie, score=6).save()
    await counters.bump(movie, likes=1, ratings_count=2, ratings_sum=15, comments_count=3)
    await add_favorite(me.id, movie)
    await add_purchase(me.id, movie)
    try:
        mine = (await client.get(f"/movies/{movie}", headers=me.headers)).json()
        assert (mine["my_reaction"], mine["my_rating"], mine["is_favorite"], mine["is_purchased"]) == (
            "like",
            9,
            True,
            True,
        )
        assert (mine["likes"], mine["average_rating"], mine["ratings_count"], mine["comments_count"]) == (
            1,
            7.5,
            2,
            3,
        )
        theirs = (await client.get(f"/movies/{movie}", headers=other.headers)).json()
        assert (
            theirs["my_reaction"],
            theirs["my_rating"],
            theirs["is_favorite"],
            theirs["is_purchased"],
        ) == (
            None,
            6,
            False,
            False,
        )
        anonymous = (await client.get(f"/movies/{movie}")).json()
        assert anonymous["my_rating"] is None
        assert anonymous["is_favorite"] is None
        assert (
            await client.get(f"/movies/{movie}", headers={"Authorization": "Bearer junk"})
        ).status_code == 401
    finally:  # the catalog rows are shared by the module: put the counters back
        await counters.bump(movie, likes=-1, ratings_count=-2, ratings_sum=-15, comments_count=-3)


async def test_popularity_sort_uses_the_counter(imdb: ImportReport, client: Any) -> None:
    movie = await movie_id("Casablanca")
    await counters.bump(movie, likes=5, favorites_count=2)
    try:
        top = (await client.get("/movies", params={"sort": "-popularity", "per_page": 1})).json()["items"][0]
        assert (top["name"], top["popularity"], top["likes"]) == ("Casablanca", 7, 5)
    finally:
        await counters.bump(movie, likes=-5, favorites_count=-2)


async def test_favorites_take_every_filter_and_sort(imdb: ImportReport, client: Any, make_user: Any) -> None:
    me, other = await make_user(), await make_user()
    names = ["The Dark Knight", "Inception", "Interstellar", "Casablanca", "Memento"]
    for name in names:
        await add_favorite(me.id, await movie_id(name))
    await add_favorite(other.id, await movie_id("The Godfather"))

    body = (await client.get("/favorites", headers=me.headers, params={"sort": "-imdb"})).json()
    assert body["total"] == 5
    assert body["items"][0]["name"] == "The Dark Knight"
    imdbs = [i["imdb"] for i in body["items"]]
    assert imdbs == sorted(imdbs, reverse=True)

    nolan = (
        await client.get("/favorites/", headers=me.headers, params={"search": "nolan", "sort": "year"})
    ).json()
    assert [i["name"] for i in nolan["items"]] == ["Memento", "The Dark Knight", "Inception", "Interstellar"]
    page = (await client.get("/favorites", headers=me.headers, params={"per_page": 2, "page": 3})).json()
    assert (page["total"], page["pages"], len(page["items"])) == (5, 3, 1)
    old = (await client.get("/favorites", headers=me.headers, params={"year_to": 1950})).json()
    assert [i["name"] for i in old["items"]] == ["Casablanca"]

    assert (await client.get("/favorites", headers=other.headers)).json()["total"] == 1
    assert (await client.get("/favorites")).status_code == 401


async def test_purchases_list(imdb: ImportReport, client: Any, make_user: Any) -> None:
    me = await make_user()
    bought = [await movie_id("Inception"), await movie_id("Casablanca")]
    for movie in bought:
        await add_purchase(me.id, movie)
    await add_order(me.id, [await movie_id("Memento")], OrderStatus.PENDING)  # not bought yet

    body = (await client.get("/purchases", headers=me.headers, params={"sort": "name"})).json()
    assert [i["name"] for i in body["items"]] == ["Casablanca", "Inception"]
    assert body["total"] == 2
    assert (await client.get("/purchases")).status_code == 401


async def test_stars_and_directors_are_paged_and_searchable(
    imdb: ImportReport, imdb_csv: Csv, client: Any
) -> None:
    body = (await client.get("/stars", params={"search": "freeman"})).json()
    names = {s["name"]: s["movie_count"] for s in body["items"]}
    expected = Counter(s for r in imdb_csv.rows for s in imdb_csv.stars(r) if "freeman" in s.lower())
    assert names == dict(expected)
    assert names["Morgan Freeman"] == 7

    page = (await client.get("/directors", params={"per_page": 10, "page": 2})).json()
    assert (page["page"], page["per_page"], page["total"], page["pages"]) == (2, 10, 548, 55)
    assert len(page["items"]) == 10
    past = (await client.get("/directors", params={"page": 100})).json()
    assert (past["items"], past["total"]) == ([], 548)

    hitchcock = (await client.get("/directors", params={"search": "Hitchcock"})).json()["items"]
    assert [(d["name"], d["movie_count"]) for d in hitchcock] == [
        ("Alfred Hitchcock", sum(r["Director"] == "Alfred Hitchcock" for r in imdb_csv.rows))
    ]
    one = (await client.get(f"/directors/{hitchcock[0]['id']}")).json()
    assert one == hitchcock[0]
    assert (await client.get("/directors/999999")).status_code == 404
    assert (await client.get("/directors/999999/movies")).status_code == 404
    assert (await client.get("/genres/999999/movies")).status_code == 404


async def test_paging_envelope(imdb: ImportReport, client: Any) -> None:
    first = (await client.get("/movies", params={"per_page": 7, "page": 3})).json()
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (3, 7, 1000, 143)
    assert [i["id"] for i in first["items"]] == sorted(i["id"] for i in first["items"])
    past = (await client.get("/movies", params={"page": 500})).json()
    assert (past["items"], past["total"], past["page"]) == ([], 1000, 500)
    huge = await client.get("/movies", params={"page": 10**30})
    assert huge.status_code in (200, 422)
    if huge.status_code == 200:
        assert huge.json()["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"year": "abc"},
        {"year": 1500},
        {"sort": "rating"},
        {"sort": "--imdb"},
        {"imdb_min": 11},
        {"imdb_max": "nan"},
        {"price_min": "-1"},
        {"price_min": "cheap"},
        {"genre_id": 0},
        {"star_id": 2**40},
        {"year_from": 2000, "year_to": 1990},
        {"imdb_min": 9, "imdb_max": 8},
        {"price_min": "10", "price_max": "5"},
        {"search": "x" * 201},
        {"search": "nul\x00"},
        {"per_page": 0},
        {"per_page": 101},
        {"page": 0},
    ],
)
async def test_bad_list_parameters_are_422(imdb: ImportReport, client: Any, params: dict[str, Any]) -> None:
    response = await client.get("/movies", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["code"] in ("validation_error", "invalid_range")


async def test_bad_ids_are_422_or_404(imdb: ImportReport, client: Any) -> None:
    assert (await client.get("/movies/abc")).status_code == 422
    assert (await client.get(f"/movies/{2**40}")).status_code == 422
    assert (await client.get("/movies/0")).status_code == 422
    assert (await client.get("/genres/abc/movies")).status_code == 422


async def test_movie_list_runs_one_statement_whatever_per_page(
    imdb: ImportReport, client: Any, make_user: Any
) -> None:
    """The list is 1 SQL statement (count and page with aggregated genres) for 1 or 100 items."""
    drama = await Genre.select(Genre.id).where(Genre.name == "Drama").first()
    assert drama is not None
    variants: list[dict[str, Any]] = [
        {},
        {"sort": "-imdb"},
        {"search": "the", "year_from": 1950, "imdb_min": 7.5, "sort": "name"},
        {"genre_id": drama["id"], "price_max": "20", "sort": "-votes"},
    ]
    for params in variants:
        for per_page in (1, 100):
            with count_queries() as log:
                response = await client.get("/movies", params={**params, "per_page": per_page})
            assert response.status_code == 200
            assert len(response.json()["items"]) == per_page
            assert log.count == 1, (params, per_page, log.statements)

    with count_queries() as log:
        response = await client.get(f"/genres/{drama['id']}/movies", params={"per_page": 100})
    assert response.status_code == 200
    assert log.count == 1

    inception = await movie_id("Inception")
    with count_queries() as log:
        response = await client.get(f"/movies/{inception}")
    assert response.status_code == 200
    assert log.count == 1

    me = await make_user()
    for name in ("Inception", "Memento", "Casablanca"):
        await add_favorite(me.id, await movie_id(name))
    counts = []
    for per_page in (1, 100):
        with count_queries() as log:
            response = await client.get("/favorites", headers=me.headers, params={"per_page": per_page})
        assert response.status_code == 200
        counts.append(log.count)
    # Authentication reads the session and user; the list itself stays at 1.
    assert counts[0] == counts[1]
    with count_queries() as log:
        await authenticate(me.headers["Authorization"].removeprefix("Bearer "))
    assert log.count == 1
    assert counts[0] - log.count == 1
