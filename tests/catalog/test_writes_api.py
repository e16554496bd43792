"""Moderators' create/update/delete of movies and entities, with the purchase and cart protections.

The commerce and interactions tables are filled directly (conftest helpers), so
these checks do not depend on the cart/order services.
"""

from __future__ import annotations

from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from cinema.catalog.tables import Genre, Movie, MovieGenre, Star
from cinema.commerce.tables import CartItem, OrderStatus
from cinema.interactions.tables import Favorite, Reaction
from tests.catalog.conftest import add_favorite, add_order, add_purchase, add_to_cart

BODY: dict[str, Any] = {
    "name": "The Test Film",
    "year": 2020,
    "time": 111,
    "imdb": 7.8,
    "votes": 1234,
    "meta_score": 66,
    "gross": "1234567.5",
    "description": "A film written by the tests.",
    "price": "12.50",
    "certification": "PG-13",
    "genres": ["Drama", "Mystery"],
    "directors": ["Jane Director"],
    "stars": ["Star A", "Star B", "Star C"],
}


@pytest.fixture
async def moderator(make_user: Any) -> Any:
    return await make_user(group=GroupName.MODERATOR)


async def create(client: Any, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = await client.post("/movies", json={**BODY, **changes}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_movie_creates_missing_names(client: Any, moderator: Any) -> None:
    await Genre(name="Drama").save()
    movie = await create(client, moderator.headers)
    assert movie["name"] == "The Test Film"
    assert (movie["price"], movie["gross"], movie["imdb"], movie["meta_score"]) == (
        "12.50",
        "1234567.50",
        7.8,
        66.0,
    )
    assert movie["certification"]["name"] == "PG-13"
    assert [g["name"] for g in movie["genres"]] == ["Drama", "Mystery"]
    assert [s["name"] for s in movie["stars"]] == ["Star A", "Star B", "Star C"]
    assert [d["name"] for d in movie["directors"]] == ["Jane Director"]
    assert await Genre.count() == 2  # Drama reused, Mystery created
    assert await Star.count() == 3
    shown = (await client.get(f"/movies/{movie['id']}")).json()
    # The anonymous detail adds the caller's `access` (null), which a moderator's write does not carry.
    assert shown == {**movie, "my_reaction": None, "access": None}

    again = await client.post("/movies", json=BODY, headers=moderator.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_movie"
    assert await Movie.count() == 1
    # Same title in another year is another film.
    await create(client, moderator.headers, year=2021)


async def test_moderator_endpoints_refuse_users_and_anonymous(client: Any, make_user: Any) -> None:
    user = await make_user()
    admin = await make_user(group=GroupName.ADMIN)
    movie = await create(client, admin.headers)  # ADMIN has every right of MODERATOR
    genre = (await client.post("/genres", json={"name": "Noir"}, headers=admin.headers)).json()
    calls = [
        ("POST", "/movies", BODY),
        ("PATCH", f"/movies/{movie['id']}", {"price": "1.00"}),
        ("DELETE", f"/movies/{movie['id']}", None),
        ("POST", "/genres", {"name": "Other"}),
        ("PATCH", f"/genres/{genre['id']}", {"name": "Other"}),
        ("DELETE", f"/genres/{genre['id']}", None),
        ("POST", "/stars/", {"name": "Someone"}),
        ("POST", "/directors", {"name": "Someone"}),
        ("POST", "/certifications", {"name": "X"}),
    ]
    for method, path, body in calls:
        as_user = await client.request(method, path, json=body, headers=user.headers)
        assert as_user.status_code == 403, (method, path)
        assert as_user.json()["code"] == "permission_denied"
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"] == "Bearer"
    assert await Movie.count() == 1
    assert (await client.get(f"/movies/{movie['id']}")).json()["price"] == "12.50"


@pytest.mark.parametrize(
    "changes",
    [
        {"year": 1700},
        {"year": "soon"},
        {"time": 0},
        {"imdb": 10.5},
        {"votes": -1},
        {"meta_score": 101},
        {"price": "-1"},
        {"price": "1.999"},
        {"price": "1e20"},
        {"name": ""},
        {"name": "x" * 256},
        {"name": "bad\x00name"},
        {"genres": "Drama"},
        {"genres": [""]},
        {"surprise": 1},
    ],
)
async def test_create_movie_rejects_bad_bodies(client: Any, moderator: Any, changes: dict[str, Any]) -> None:
    response = await client.post("/movies", json={**BODY, **changes}, headers=moderator.headers)
    assert response.status_code == 422, response.text
    assert await Movie.count() == 0


async def test_create_movie_requires_the_essentials(client: Any, moderator: Any) -> None:
    for field in ("name", "year", "time", "imdb", "price", "certification"):
        body = {k: v for k, v in BODY.items() if k != field}
        assert (await client.post("/movies", json=body, headers=moderator.headers)).status_code == 422, field


async def test_update_movie(client: Any, moderator: Any) -> None:
    movie = await create(client, moderator.headers)
    other = await create(client, moderator.headers, name="Another Film")
    response = await client.patch(
        f"/movies/{movie['id']}",
        json={"price": "3.00", "genres": ["Horror", "Drama"], "meta_score": None, "certification": "R"},
        headers=moderator.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["price"] == "3.00"
    assert [g["name"] for g in body["genres"]] == ["Horror", "Drama"]
    assert body["meta_score"] is None
    assert body["certification"]["name"] == "R"
    assert [s["name"] for s in body["stars"]] == ["Star A", "Star B", "Star C"]  # not sent: unchanged
    assert body["name"] == movie["name"]
    assert body["updated_at"] >= movie["updated_at"]
    assert await MovieGenre.count() == 4  # 2 for each film

    clash = await client.patch(
        f"/movies/{other['id']}", json={"name": movie["name"]}, headers=moderator.headers
    )
    assert (clash.status_code, clash.json()["code"]) == (409, "duplicate_movie")
    bad = await client.patch(f"/movies/{movie['id']}", json={"name": None}, headers=moderator.headers)
    assert bad.status_code == 422
    for listed in ("genres", "directors", "stars"):
        bad = await client.patch(f"/movies/{movie['id']}", json={listed: None}, headers=moderator.headers)
        assert (bad.status_code, bad.json()["fields"]) == (422, [listed])
    bad = await client.patch(f"/movies/{movie['id']}", json={"price": "abc"}, headers=moderator.headers)
    assert bad.status_code == 422
    missing = await client.patch("/movies/987654", json={"price": "1.00"}, headers=moderator.headers)
    assert missing.status_code == 404
    renamed = await client.patch(
        f"/movies/{movie['id']}", json={"name": "Renamed"}, headers=moderator.headers
    )
    assert renamed.json()["name"] == "Renamed"
    empty = await client.patch(f"/movies/{movie['id']}", json={}, headers=moderator.headers)
    assert empty.status_code == 200
    assert empty.json()["updated_at"] == renamed.json()["updated_at"]


async def test_delete_movie_takes_its_interactions(client: Any, moderator: Any, make_user: Any) -> None:
    movie = await create(client, moderator.headers)
    fan = await make_user()
    await add_favorite(fan.id, movie["id"])
    await Reaction(user=fan.id, movie=movie["id"], reaction="like").save()
    response = await client.delete(f"/movies/{movie['id']}", headers=moderator.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/movies/{movie['id']}")).status_code == 404
    assert await Favorite.count() == 0
    assert await Reaction.count() == 0
    assert (await client.delete(f"/movies/{movie['id']}", headers=moderator.headers)).status_code == 404


async def test_delete_refuses_a_purchased_movie(client: Any, moderator: Any, make_user: Any) -> None:
    movie = await create(client, moderator.headers)
    buyer = await make_user()
    await add_purchase(buyer.id, movie["id"])
    for force in ("false", "true"):
        response = await client.delete(
            f"/movies/{movie['id']}", params={"force": force}, headers=moderator.headers
        )
        assert response.status_code == 409
        assert response.json()["code"] == "movie_purchased"
    assert await Movie.count() == 1


async def test_delete_refuses_a_movie_in_a_pending_order(client: Any, moderator: Any, make_user: Any) -> None:
    movie = await create(client, moderator.headers)
    other = await create(client, moderator.headers, name="Other")
    buyer = await make_user()
    await add_order(buyer.id, [other["id"], movie["id"]], OrderStatus.PENDING)
    response = await client.delete(
        f"/movies/{movie['id']}", params={"force": True}, headers=moderator.headers
    )
    assert (response.status_code, response.json()["code"]) == (409, "movie_purchased")
    assert await Movie.count() == 2


async def test_delete_refuses_a_movie_in_past_orders(client: Any, moderator: Any, make_user: Any) -> None:
    movie = await create(client, moderator.headers)
    buyer = await make_user()
    await add_order(buyer.id, [movie["id"]], OrderStatus.CANCELED)
    response = await client.delete(f"/movies/{movie['id']}", headers=moderator.headers)
    assert (response.status_code, response.json()["code"]) == (409, "movie_in_orders")
    assert await Movie.count() == 1


async def test_delete_a_movie_in_carts_needs_force(client: Any, moderator: Any, make_user: Any) -> None:
    movie = await create(client, moderator.headers)
    kept = await create(client, moderator.headers, name="Kept")
    first, second = await make_user(), await make_user()
    await add_to_cart(first.id, movie["id"])
    await add_to_cart(first.id, kept["id"])
    await add_to_cart(second.id, movie["id"])

    response = await client.delete(f"/movies/{movie['id']}", headers=moderator.headers)
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["carts"]) == ("movie_in_carts", 2)
    assert await CartItem.count() == 3

    response = await client.delete(f"/movies/{movie['id']}?force=true", headers=moderator.headers)
    assert response.status_code == 204
    assert await CartItem.count() == 1  # only the other film stays in a cart
    assert await Movie.count() == 1


async def test_entity_crud(client: Any, moderator: Any) -> None:
    created = await client.post("/genres", json={"name": "  Western "}, headers=moderator.headers)
    assert created.status_code == 201
    western = created.json()
    assert (western["name"], western["movie_count"]) == ("Western", 0)
    duplicate = await client.post("/genres/", json={"name": "Western"}, headers=moderator.headers)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "duplicate_name")
    assert (await client.post("/genres", json={"name": ""}, headers=moderator.headers)).status_code == 422
    assert (await client.post("/genres", json={}, headers=moderator.headers)).status_code == 422

    await create(client, moderator.headers, genres=["Drama"])
    drama = next(g for g in (await client.get("/genres")).json() if g["name"] == "Drama")
    assert drama["movie_count"] == 1

    clash = await client.patch(f"/genres/{western['id']}", json={"name": "Drama"}, headers=moderator.headers)
    assert (clash.status_code, clash.json()["code"]) == (409, "duplicate_name")
    renamed = await client.patch(
        f"/genres/{western['id']}", json={"name": "Westerns"}, headers=moderator.headers
    )
    assert renamed.status_code == 200
    assert renamed.json() == {"id": western["id"], "name": "Westerns", "movie_count": 0}

    in_use = await client.delete(f"/genres/{drama['id']}", headers=moderator.headers)
    assert in_use.status_code == 409
    assert (in_use.json()["code"], in_use.json()["movie_count"]) == ("in_use", 1)
    assert (await client.delete(f"/genres/{western['id']}", headers=moderator.headers)).status_code == 204
    assert (await client.delete(f"/genres/{western['id']}", headers=moderator.headers)).status_code == 404
    assert (
        await client.patch("/genres/424242", json={"name": "x"}, headers=moderator.headers)
    ).status_code == 404

    for kind, name in (("stars", "Star A"), ("directors", "Jane Director"), ("certifications", "PG-13")):
        listed = (await client.get(f"/{kind}")).json()
        entries = listed["items"] if isinstance(listed, dict) else listed
        entry = next(e for e in entries if e["name"] == name)
        refused = await client.delete(f"/{kind}/{entry['id']}", headers=moderator.headers)
        assert (refused.status_code, refused.json()["code"]) == (409, "in_use"), kind
        fresh = (
            await client.post(f"/{kind}", json={"name": f"New {kind}"}, headers=moderator.headers)
        ).json()
        assert (await client.delete(f"/{kind}/{fresh['id']}", headers=moderator.headers)).status_code == 204


async def test_certification_movies_and_lists_answer_with_and_without_slash(
    client: Any, moderator: Any
) -> None:
    movie = await create(client, moderator.headers)
    cert = movie["certification"]["id"]
    for path in (f"/certifications/{cert}/movies", f"/certifications/{cert}/movies/", "/movies/", "/genres/"):
        response = await client.get(path)
        assert response.status_code == 200, path
    body = (await client.get(f"/certifications/{cert}/movies")).json()
    assert [i["name"] for i in body["items"]] == [movie["name"]]


async def test_a_price_under_one_cent_is_refused(client: Any, moderator: Any) -> None:
    """0.00 would make an order no one can pay: POST and PATCH answer 422 `invalid_price`."""
    free = await client.post("/movies", json={**BODY, "price": "0.00"}, headers=moderator.headers)
    assert free.status_code == 422, free.text
    assert free.json() == {"detail": "A movie's price must be at least 0.01.", "code": "invalid_price"}
    assert await Movie.count() == 0

    movie = await create(client, moderator.headers, price="0.01")
    assert movie["price"] == "0.01"
    patched = await client.patch(f"/movies/{movie['id']}", json={"price": "0"}, headers=moderator.headers)
    assert patched.status_code == 422
    assert patched.json()["code"] == "invalid_price"
    assert (await client.get(f"/movies/{movie['id']}")).json()["price"] == "0.01"


async def test_entity_names_differing_only_in_case_are_one_entity(client: Any, moderator: Any) -> None:
    await Genre(name="Drama").save()
    movie = await create(
        client,
        moderator.headers,
        genres=["GenreX", "genrex", "DRAMA"],
        stars=["Star A", "STAR a"],
        certification="pg-13",
    )
    assert [g["name"] for g in movie["genres"]] == ["GenreX", "Drama"]
    assert [s["name"] for s in movie["stars"]] == ["Star A"]
    assert sorted(r["name"] for r in await Genre.select(Genre.name).run()) == ["Drama", "GenreX"]

    other = await create(
        client, moderator.headers, name="Another", genres=["genrex"], stars=["star a"], certification="PG-13"
    )
    assert [g["name"] for g in other["genres"]] == ["GenreX"]
    assert other["certification"]["id"] == movie["certification"]["id"]
    assert await Genre.count() == 2
    assert await Star.count() == 1
    patched = await client.patch(
        f"/movies/{other['id']}", json={"genres": ["drama", "Drama"]}, headers=moderator.headers
    )
    assert [g["name"] for g in patched.json()["genres"]] == ["Drama"]
