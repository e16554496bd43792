"""HTTP routes for the catalog (API.md "Catalog"): movies, the four entity kinds,
and the caller's favorites and purchases lists. Thin: parse, call one service
function, render.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status

from cinema.api.deps import Moderator, OptionalUser, Paging, User
from cinema.api.responses import json_data
from cinema.catalog import entities, movies, queries
from cinema.catalog.schemas import (
    PRICE_MAX,
    YEAR_MAX,
    YEAR_MIN,
    EntityIn,
    EntityKind,
    EntityOut,
    ListScope,
    MovieCreate,
    MovieDetail,
    MovieFilters,
    MovieListItem,
    MovieUpdate,
    SortKey,
)
from cinema.entitlements import library
from cinema.entitlements.schemas import MovieDetailOut
from cinema.errors import ValidationFailed
from cinema.pagination import Page
from cinema.text import NoControlCharacters

router = APIRouter(tags=["catalog"])

#: Ids are PostgreSQL INTEGERs: anything outside 1..2^31-1 is a 422, not a driver error.
ID_MAX = 2_147_483_647
MovieId = Annotated[int, Path(ge=1, le=ID_MAX, description="Movie id")]
EntityId = Annotated[int, Path(ge=1, le=ID_MAX, description="Entry id")]
FilterId = Annotated[int | None, Query(ge=1, le=ID_MAX)]
YearQ = Annotated[int | None, Query(ge=YEAR_MIN, le=YEAR_MAX)]
ImdbQ = Annotated[float | None, Query(ge=0, le=10, allow_inf_nan=False)]
PriceQ = Annotated[Decimal | None, Query(ge=0, le=PRICE_MAX, allow_inf_nan=False)]
SearchQ = Annotated[
    Annotated[str, NoControlCharacters()] | None,
    Query(max_length=200, description="Substring of a name (case-insensitive)"),
]

_RESPONSES_MOD: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Needs the MODERATOR role"},
}


async def movie_filters(
    search: Annotated[
        Annotated[str, NoControlCharacters()] | None,
        Query(
            max_length=200,
            description="Case-insensitive substring of the title, description, a star's or a director's name",
        ),
    ] = None,
    year: YearQ = None,
    year_from: YearQ = None,
    year_to: YearQ = None,
    imdb_min: ImdbQ = None,
    imdb_max: ImdbQ = None,
    price_min: PriceQ = None,
    price_max: PriceQ = None,
    genre_id: FilterId = None,
    star_id: FilterId = None,
    director_id: FilterId = None,
    certification_id: FilterId = None,
    sort: Annotated[
        SortKey | None,
        Query(description="Field to sort by, `-` prefix for descending; ties by id. Default: id."),
    ] = None,
) -> MovieFilters:
    """The `/movies` query parameters; a range whose minimum exceeds its maximum is a 422.

    Async although it never waits: FastAPI then runs it on the event loop instead
    of sending it to the threadpool (one thread hop less per list request).
    """
    for low, high, label in (
        (year_from, year_to, "year_from/year_to"),
        (imdb_min, imdb_max, "imdb_min/imdb_max"),
        (price_min, price_max, "price_min/price_max"),
    ):
        if low is not None and high is not None and low > high:
            raise ValidationFailed(f"{label}: the minimum is greater than the maximum.", code="invalid_range")
    return MovieFilters(
        search=search,
        year=year,
        year_from=year_from,
        year_to=year_to,
        imdb_min=imdb_min,
        imdb_max=imdb_max,
        price_min=price_min,
        price_max=price_max,
        genre_id=genre_id,
        star_id=star_id,
        director_id=director_id,
        certification_id=certification_id,
        sort=sort,
    )


Filters = Annotated[MovieFilters, Depends(movie_filters)]


# --- Movies -------------------------------------------------------------------


@router.get("/movies", response_model=Page[MovieListItem], summary="Browse, filter, search and sort movies")
async def list_movies(filters: Filters, paging: Paging) -> Response:
    return json_data(await queries.list_movies_data(filters, paging))


@router.get(
    "/movies/{movie_id}",
    response_model=MovieDetailOut,
    summary="One movie in full",
    responses={404: {"description": "No such movie"}},
)
async def get_movie(movie_id: MovieId, user: OptionalUser) -> Response:
    """With a Bearer token, `my_reaction`, `my_rating`, `is_favorite`, `is_purchased` and `access` are filled in."""
    return json_data(await library.movie_detail_data(movie_id, user))


@router.post(
    "/movies",
    response_model=MovieDetail,
    status_code=status.HTTP_201_CREATED,
    summary="Add a movie (moderators)",
    responses={**_RESPONSES_MOD, 409: {"description": "`duplicate_movie`: same name, year and time"}},
)
async def create_movie(body: MovieCreate, moderator: Moderator) -> MovieDetail:
    """Certification, genres, directors and stars are given by name and created when missing."""
    return await movies.create_movie(body)


@router.patch(
    "/movies/{movie_id}",
    response_model=MovieDetail,
    summary="Change a movie (moderators)",
    responses={
        **_RESPONSES_MOD,
        404: {"description": "No such movie"},
        409: {"description": "`duplicate_movie`"},
    },
)
async def update_movie(movie_id: MovieId, body: MovieUpdate, moderator: Moderator) -> MovieDetail:
    """Only the fields sent change; a list sent replaces the movie's list."""
    return await movies.update_movie(movie_id, body)


@router.delete(
    "/movies/{movie_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a movie (moderators)",
    responses={
        **_RESPONSES_MOD,
        404: {"description": "No such movie"},
        409: {
            "description": "`movie_purchased` (bought, or in a pending order), `movie_in_orders` "
            "(in past orders), `movie_in_carts` (with `carts`, the number of carts; "
            "repeat with `force=true`)"
        },
    },
)
async def delete_movie(
    movie_id: MovieId,
    moderator: Moderator,
    force: Annotated[bool, Query(description="Also take the movie out of the carts holding it")] = False,
) -> Response:
    await movies.delete_movie(movie_id, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- The caller's movies ------------------------------------------------------


@router.get("/favorites", response_model=Page[MovieListItem], summary="My favorite movies")
async def my_favorites(filters: Filters, paging: Paging, user: User) -> Response:
    """Every `/movies` filter, sort and paging, over the caller's favorites."""
    return json_data(await queries.list_movies_data(filters.restricted(ListScope.FAVORITES, user.id), paging))


@router.get("/purchases", response_model=Page[MovieListItem], summary="Movies I bought")
async def my_purchases(filters: Filters, paging: Paging, user: User) -> Response:
    """The caller's purchased movies, paged (the `/movies` filters and sorts apply too)."""
    return json_data(await queries.list_movies_data(filters.restricted(ListScope.PURCHASES, user.id), paging))


# --- Genres, stars, directors, certifications ----------------------------------


def _register(kind: EntityKind) -> None:
    label = kind.value.rstrip("s")
    paged = kind in (EntityKind.STARS, EntityKind.DIRECTORS)
    base = f"/{kind.value}"

    if paged:

        async def list_paged(
            paging: Paging,
            search: SearchQ = None,
        ) -> Page[EntityOut]:
            return await entities.page_entities(kind, paging, search)

        router.add_api_route(
            base,
            list_paged,
            methods=["GET"],
            response_model=Page[EntityOut],
            summary=f"{kind.value.title()} by name, with movie counts (paged, `search`)",
            operation_id=f"list_{kind.value}",
        )
    else:

        async def list_all(
            search: SearchQ = None,
        ) -> list[EntityOut]:
            return await entities.list_entities(kind, search)

        router.add_api_route(
            base,
            list_all,
            methods=["GET"],
            response_model=list[EntityOut],
            summary=f"All {kind.value} by name, with movie counts",
            operation_id=f"list_{kind.value}",
        )

    async def get_one(entity_id: EntityId) -> EntityOut:
        return await entities.get_entity(kind, entity_id)

    async def movies_of(entity_id: EntityId, filters: Filters, paging: Paging) -> Response:
        return json_data(await entities.entity_movies(kind, entity_id, filters, paging))

    async def create(body: EntityIn, moderator: Moderator) -> EntityOut:
        return await entities.create_entity(kind, body.name)

    async def rename(entity_id: EntityId, body: EntityIn, moderator: Moderator) -> EntityOut:
        return await entities.rename_entity(kind, entity_id, body.name)

    async def delete(entity_id: EntityId, moderator: Moderator) -> Response:
        await entities.delete_entity(kind, entity_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    not_found: dict[int | str, dict[str, Any]] = {404: {"description": f"No such {label}"}}
    router.add_api_route(
        base + "/{entity_id}",
        get_one,
        methods=["GET"],
        response_model=EntityOut,
        summary=f"One {label} with its movie count",
        responses=not_found,
        operation_id=f"get_{label}",
    )
    router.add_api_route(
        base + "/{entity_id}/movies",
        movies_of,
        methods=["GET"],
        response_model=Page[MovieListItem],
        summary=f"Movies of one {label} (the `/movies` filters, sorts and paging)",
        responses=not_found,
        operation_id=f"list_{label}_movies",
    )
    router.add_api_route(
        base,
        create,
        methods=["POST"],
        response_model=EntityOut,
        status_code=status.HTTP_201_CREATED,
        summary=f"Add a {label} (moderators)",
        responses={**_RESPONSES_MOD, 409: {"description": "`duplicate_name`"}},
        operation_id=f"create_{label}",
    )
    router.add_api_route(
        base + "/{entity_id}",
        rename,
        methods=["PATCH"],
        response_model=EntityOut,
        summary=f"Rename a {label} (moderators)",
        responses={**_RESPONSES_MOD, **not_found, 409: {"description": "`duplicate_name`"}},
        operation_id=f"rename_{label}",
    )
    router.add_api_route(
        base + "/{entity_id}",
        delete,
        methods=["DELETE"],
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        summary=f"Delete a {label} no movie uses (moderators)",
        responses={
            **_RESPONSES_MOD,
            **not_found,
            409: {"description": "`in_use`: movies still use it (`movie_count`)"},
        },
        operation_id=f"delete_{label}",
    )


for _kind in EntityKind:
    _register(_kind)
