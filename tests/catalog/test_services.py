"""The catalog's rules, called as services (no HTTP): who may write, keys, prices, links, entities.

Every door (API, CLI, admin) calls these functions, so a rule checked here
holds for all of them. Each refusal leaves the tables as they were.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.accounts.errors import RoleRequired
from cinema.catalog import entities, movies
from cinema.catalog.errors import (
    AlreadyLinked,
    CertificationNotFound,
    DirectorNotFound,
    DuplicateMovie,
    DuplicateName,
    EntityInUse,
    GenreNotFound,
    InvalidPrice,
    MovieNotFound,
    NotLinked,
    NullNotAllowed,
    StarNotFound,
)
from cinema.catalog.schemas import EntityKind, MovieCreate, MovieUpdate
from cinema.catalog.tables import Certification, Genre, Movie, MovieGenre
from tests.catalog.conftest import OPERATOR

USER = CurrentUser(id=7, email="user@example.com", group=GroupName.USER, session_id="s")
MODERATOR = CurrentUser(id=8, email="mod@example.com", group=GroupName.MODERATOR, session_id="s")


def _film(**changes: Any) -> MovieCreate:
    values: dict[str, Any] = {
        "name": "Service Film",
        "year": 2001,
        "time": 100,
        "imdb": 7.5,
        "price": Decimal("9.99"),
        "certification": "PG",
        "genres": ["Drama"],
        "stars": ["Ann Actor"],
    }
    return MovieCreate(**{**values, **changes})


async def test_a_user_may_not_write_and_learns_nothing_about_rows() -> None:
    """The role is checked first: a USER hears `permission_denied` even for ids that do not exist."""
    movie = await movies.create_movie(MODERATOR, _film())
    writes = [
        movies.create_movie(USER, _film(name="Other")),
        movies.update_movie(USER, movie.id, MovieUpdate(price=Decimal("1.00"))),
        movies.update_movie(USER, 999_999, MovieUpdate(price=Decimal("1.00"))),
        movies.delete_movie(USER, movie.id),
        movies.delete_movie(USER, 999_999),
        movies.link_entity(USER, movie.id, EntityKind.GENRES, 999_999),
        movies.unlink_entity(USER, movie.id, EntityKind.GENRES, movie.genres[0].id),
        entities.create_entity(USER, EntityKind.GENRES, "Noir"),
        entities.rename_entity(USER, EntityKind.GENRES, movie.genres[0].id, "Noir"),
        entities.delete_entity(USER, EntityKind.STARS, 999_999),
    ]
    for write in writes:
        with pytest.raises(RoleRequired) as refused:
            await write
        assert (refused.value.status_code, refused.value.code) == (403, "permission_denied")
        assert refused.value.extra == {"required_group": "MODERATOR"}
    assert await Movie.count() == 1
    assert [g["name"] for g in await Genre.select(Genre.name)] == ["Drama"]
    assert (await movies.get_movie(movie.id)).price == Decimal("9.99")


async def test_moderator_and_operator_write() -> None:
    by_moderator = await movies.create_movie(MODERATOR, _film())
    by_operator = await movies.create_movie(OPERATOR, _film(year=2002))
    assert (by_moderator.name, by_operator.year) == ("Service Film", 2002)
    await movies.delete_movie(MODERATOR, by_operator.id)
    assert await Movie.count() == 1


async def test_name_year_and_time_are_one_key() -> None:
    first = await movies.create_movie(OPERATOR, _film())
    with pytest.raises(DuplicateMovie) as duplicate:
        await movies.create_movie(OPERATOR, _film(genres=["Comedy"]))
    assert (duplicate.value.code, duplicate.value.detail) == (
        "duplicate_movie",
        "A movie with this name, year and runtime already exists.",
    )
    second = await movies.create_movie(OPERATOR, _film(time=101))
    with pytest.raises(DuplicateMovie):
        await movies.update_movie(OPERATOR, second.id, MovieUpdate(time=100))
    assert (await movies.get_movie(second.id)).time == 101
    renamed = await movies.update_movie(OPERATOR, first.id, MovieUpdate(name="Renamed"))
    assert renamed.name == "Renamed"
    assert await Genre.count() == 1  # the refused create made no "Comedy"


async def test_a_price_is_at_least_a_cent() -> None:
    with pytest.raises(InvalidPrice) as free:
        await movies.create_movie(OPERATOR, _film(price=Decimal("0.00")))
    assert (free.value.status_code, free.value.detail) == (422, "A movie's price must be at least 0.01.")
    movie = await movies.create_movie(OPERATOR, _film(price=Decimal("0.01")))
    with pytest.raises(InvalidPrice):
        await movies.update_movie(OPERATOR, movie.id, MovieUpdate(price=Decimal("0")))
    assert await Movie.count() == 1


async def test_only_meta_score_and_gross_may_be_nulled() -> None:
    movie = await movies.create_movie(OPERATOR, _film(meta_score=70, gross=Decimal("5.00")))
    cleared = await movies.update_movie(OPERATOR, movie.id, MovieUpdate(meta_score=None, gross=None))
    assert (cleared.meta_score, cleared.gross) == (None, None)
    with pytest.raises(NullNotAllowed) as refused:
        await movies.update_movie(OPERATOR, movie.id, MovieUpdate(name=None, price=None, genres=None))
    assert (refused.value.code, refused.value.extra) == (
        "validation_error",
        {"fields": ["genres", "name", "price"]},
    )
    assert (await movies.get_movie(movie.id)).name == "Service Film"


async def test_an_empty_update_changes_nothing() -> None:
    movie = await movies.create_movie(OPERATOR, _film())
    same = await movies.update_movie(OPERATOR, movie.id, MovieUpdate())
    assert same == movie


async def test_a_missing_movie_is_movie_not_found_everywhere() -> None:
    calls = [
        movies.get_movie(999_999),
        movies.update_movie(OPERATOR, 999_999, MovieUpdate(price=Decimal("2.00"))),
        movies.delete_movie(OPERATOR, 999_999),
        movies.link_entity(OPERATOR, 999_999, EntityKind.GENRES, 1),
        movies.unlink_entity(OPERATOR, 999_999, EntityKind.GENRES, 1),
    ]
    for call in calls:
        with pytest.raises(MovieNotFound) as missing:
            await call
        assert (missing.value.status_code, missing.value.code, missing.value.detail) == (
            404,
            "movie_not_found",
            "The movie does not exist.",
        )


async def test_links_are_added_at_the_end_once_and_removed_by_id() -> None:
    movie = await movies.create_movie(OPERATOR, _film(genres=["Drama"]))
    crime = await entities.create_entity(OPERATOR, EntityKind.GENRES, "Crime")
    await movies.link_entity(OPERATOR, movie.id, EntityKind.GENRES, crime.id)
    assert [g.name for g in (await movies.get_movie(movie.id)).genres] == ["Drama", "Crime"]
    with pytest.raises(AlreadyLinked):
        await movies.link_entity(OPERATOR, movie.id, EntityKind.GENRES, crime.id)
    with pytest.raises(GenreNotFound):
        await movies.link_entity(OPERATOR, movie.id, EntityKind.GENRES, 999_999)
    await movies.unlink_entity(OPERATOR, movie.id, EntityKind.GENRES, crime.id)
    with pytest.raises(NotLinked) as not_linked:
        await movies.unlink_entity(OPERATOR, movie.id, EntityKind.GENRES, crime.id)
    assert (not_linked.value.status_code, not_linked.value.code) == (404, "not_linked")
    assert await MovieGenre.count() == 1


@pytest.mark.parametrize(
    ("kind", "error", "code"),
    [
        (EntityKind.GENRES, GenreNotFound, "genre_not_found"),
        (EntityKind.STARS, StarNotFound, "star_not_found"),
        (EntityKind.DIRECTORS, DirectorNotFound, "director_not_found"),
        (EntityKind.CERTIFICATIONS, CertificationNotFound, "certification_not_found"),
    ],
)
async def test_each_entity_kind_has_its_not_found(
    kind: EntityKind, error: type[Exception], code: str
) -> None:
    for call in (
        entities.get_entity(kind, 999_999),
        entities.rename_entity(OPERATOR, kind, 999_999, "Anything"),
        entities.delete_entity(OPERATOR, kind, 999_999),
    ):
        with pytest.raises(error) as missing:
            await call
        assert getattr(missing.value, "code", None) == code


async def test_entity_names_are_unique_and_used_entries_stay() -> None:
    movie = await movies.create_movie(OPERATOR, _film(certification="PG"))
    with pytest.raises(DuplicateName) as taken:
        await entities.create_entity(OPERATOR, EntityKind.GENRES, "Drama")
    assert (taken.value.code, taken.value.extra) == ("duplicate_name", {"name": "Drama"})
    noir = await entities.create_entity(OPERATOR, EntityKind.GENRES, "Noir")
    with pytest.raises(DuplicateName):
        await entities.rename_entity(OPERATOR, EntityKind.GENRES, noir.id, "Drama")
    assert (await entities.rename_entity(OPERATOR, EntityKind.GENRES, noir.id, "Neo-noir")).name == "Neo-noir"

    pg = movie.certification.id
    with pytest.raises(EntityInUse) as in_use:
        await entities.delete_entity(OPERATOR, EntityKind.CERTIFICATIONS, pg)
    assert (in_use.value.code, in_use.value.extra) == ("in_use", {"movie_count": 1})
    await entities.delete_entity(OPERATOR, EntityKind.GENRES, noir.id)
    assert await Certification.count() == 1
    assert [g["name"] for g in await Genre.select(Genre.name)] == ["Drama"]
