"""HTTP routes for the catalog (docs/api.md, "Catalog"): movies, the four entity kinds,
and the caller's favorites and purchases lists.

Thin: authenticate, parse, call one service function, render. The services
decide who may write (MODERATOR and above), so these routes only ask for a
signed-in caller. Every path is written out below, so a search for it finds
its route; the four entity kinds share one handler per behaviour (`_entity_routes`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from cinema.accounts.errors import RoleRequired
from cinema.api.deps import OptionalUser, Paging, User
from cinema.api.errors import error_responses
from cinema.api.responses import json_data
from cinema.catalog import entities, movies, queries
from cinema.catalog.entities import SPECS
from cinema.catalog.errors import (
    DuplicateMovie,
    DuplicateName,
    EntityInUse,
    InvalidPrice,
    InvalidRange,
    MovieInCarts,
    MovieInOrders,
    MovieNotFound,
    MoviePurchased,
    NullNotAllowed,
)
from cinema.catalog.schemas import (
    EntityIn,
    EntityKind,
    EntityOut,
    MovieCreate,
    MovieDetail,
    MovieFilters,
    MovieListItem,
    MovieUpdate,
    SearchTerm,
)
from cinema.entitlements import library
from cinema.entitlements.schemas import MovieDetailOut
from cinema.errors import NotAuthenticated
from cinema.ids import EntryId, MovieId
from cinema.pagination import Page

router = APIRouter(tags=["catalog"])


#: The `/movies` filters, sorts included: one query model, validated by itself (min above max too).
Filters = Annotated[MovieFilters, Query()]
SearchQ = Annotated[SearchTerm | None, Query(description="Substring of a name (case-insensitive)")]

#: Errors of every moderator write, besides its own.
_WRITE = (NotAuthenticated, RoleRequired)


# --- Movies -------------------------------------------------------------------


@router.get(
    "/movies",
    response_model=Page[MovieListItem],
    summary="Browse, filter, search and sort movies",
    responses=error_responses(InvalidRange),
)
async def list_movies(filters: Filters, paging: Paging) -> Response:
    return json_data(await queries.list_movies_data(filters, paging))


@router.get(
    "/movies/{movie_id}",
    response_model=MovieDetailOut,
    summary="One movie in full",
    responses=error_responses(MovieNotFound),
)
async def get_movie(movie_id: MovieId, user: OptionalUser) -> Response:
    """With a Bearer token, `my_reaction`, `my_rating`, `is_favorite`, `is_purchased` and `access` are filled in."""
    return json_data(await library.movie_detail_data(movie_id, user))


@router.post(
    "/movies",
    response_model=MovieDetail,
    status_code=status.HTTP_201_CREATED,
    summary="Add a movie (moderators)",
    responses=error_responses(*_WRITE, DuplicateMovie, InvalidPrice),
)
async def create_movie(body: MovieCreate, user: User) -> MovieDetail:
    """Certification, genres, directors and stars are given by name and created when missing."""
    return await movies.create_movie(user, body)


@router.patch(
    "/movies/{movie_id}",
    response_model=MovieDetail,
    summary="Change a movie (moderators)",
    responses=error_responses(*_WRITE, MovieNotFound, DuplicateMovie, InvalidPrice, NullNotAllowed),
)
async def update_movie(movie_id: MovieId, body: MovieUpdate, user: User) -> MovieDetail:
    """Only the fields sent change; a list sent replaces the movie's list."""
    return await movies.update_movie(user, movie_id, body)


@router.delete(
    "/movies/{movie_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a movie (moderators)",
    responses=error_responses(*_WRITE, MovieNotFound, MoviePurchased, MovieInOrders, MovieInCarts),
)
async def delete_movie(
    movie_id: MovieId,
    user: User,
    force: Annotated[bool, Query(description="Also take the movie out of the carts holding it")] = False,
) -> Response:
    await movies.delete_movie(user, movie_id, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- The caller's movies ------------------------------------------------------


@router.get(
    "/favorites",
    response_model=Page[MovieListItem],
    summary="My favorite movies",
    responses=error_responses(NotAuthenticated, InvalidRange),
)
async def my_favorites(filters: Filters, paging: Paging, user: User) -> Response:
    """Every `/movies` filter, sort and paging, over the caller's favorites."""
    return json_data(await queries.list_favorites_data(user, filters, paging))


@router.get(
    "/purchases",
    response_model=Page[MovieListItem],
    summary="Movies I bought",
    responses=error_responses(NotAuthenticated, InvalidRange),
)
async def my_purchases(filters: Filters, paging: Paging, user: User) -> Response:
    """The caller's purchased movies, paged (the `/movies` filters and sorts apply too)."""
    return json_data(await queries.list_purchases_data(user, filters, paging))


# --- Genres, stars, directors, certifications ----------------------------------


def _entity_routes(kind: EntityKind, *, collection: str, item: str, movies_of: str) -> None:
    """The six routes of one entity kind, at the paths written out by the caller."""
    if item != f"{collection}/{{entity_id}}" or movies_of != f"{item}/movies":
        raise ValueError(f"inconsistent paths for {kind.value}: {collection}, {item}, {movies_of}")
    label = kind.value.rstrip("s")
    not_found = SPECS[kind].not_found

    if kind in (EntityKind.STARS, EntityKind.DIRECTORS):

        async def list_paged(paging: Paging, search: SearchQ = None) -> Page[EntityOut]:
            return await entities.page_entities(kind, paging, search)

        router.add_api_route(
            collection,
            list_paged,
            methods=["GET"],
            response_model=Page[EntityOut],
            summary=f"{kind.value.title()} by name, with movie counts (paged, `search`)",
            operation_id=f"list_{kind.value}",
        )
    else:

        async def list_all(search: SearchQ = None) -> list[EntityOut]:
            return await entities.list_entities(kind, search)

        router.add_api_route(
            collection,
            list_all,
            methods=["GET"],
            response_model=list[EntityOut],
            summary=f"All {kind.value} by name, with movie counts",
            operation_id=f"list_{kind.value}",
        )

    async def get_one(entity_id: EntryId) -> EntityOut:
        return await entities.get_entity(kind, entity_id)

    async def movies(entity_id: EntryId, filters: Filters, paging: Paging) -> Response:
        return json_data(await entities.entity_movies(kind, entity_id, filters, paging))

    async def create(body: EntityIn, user: User) -> EntityOut:
        return await entities.create_entity(user, kind, body.name)

    async def rename(entity_id: EntryId, body: EntityIn, user: User) -> EntityOut:
        return await entities.rename_entity(user, kind, entity_id, body.name)

    async def delete(entity_id: EntryId, user: User) -> Response:
        await entities.delete_entity(user, kind, entity_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    router.add_api_route(
        item,
        get_one,
        methods=["GET"],
        response_model=EntityOut,
        summary=f"One {label} with its movie count",
        responses=error_responses(not_found),
        operation_id=f"get_{label}",
    )
    router.add_api_route(
        movies_of,
        movies,
        methods=["GET"],
        response_model=Page[MovieListItem],
        summary=f"Movies of one {label} (the `/movies` filters, sorts and paging)",
        responses=error_responses(not_found, InvalidRange),
        operation_id=f"list_{label}_movies",
    )
    router.add_api_route(
        collection,
        create,
        methods=["POST"],
        response_model=EntityOut,
        status_code=status.HTTP_201_CREATED,
        summary=f"Add a {label} (moderators)",
        responses=error_responses(*_WRITE, DuplicateName),
        operation_id=f"create_{label}",
    )
    router.add_api_route(
        item,
        rename,
        methods=["PATCH"],
        response_model=EntityOut,
        summary=f"Rename a {label} (moderators)",
        responses=error_responses(*_WRITE, not_found, DuplicateName),
        operation_id=f"rename_{label}",
    )
    router.add_api_route(
        item,
        delete,
        methods=["DELETE"],
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        summary=f"Delete a {label} no movie uses (moderators)",
        responses=error_responses(*_WRITE, not_found, EntityInUse),
        operation_id=f"delete_{label}",
    )


_entity_routes(
    EntityKind.GENRES,
    collection="/genres",
    item="/genres/{entity_id}",
    movies_of="/genres/{entity_id}/movies",
)
_entity_routes(
    EntityKind.STARS,
    collection="/stars",
    item="/stars/{entity_id}",
    movies_of="/stars/{entity_id}/movies",
)
_entity_routes(
    EntityKind.DIRECTORS,
    collection="/directors",
    item="/directors/{entity_id}",
    movies_of="/directors/{entity_id}/movies",
)
_entity_routes(
    EntityKind.CERTIFICATIONS,
    collection="/certifications",
    item="/certifications/{entity_id}",
    movies_of="/certifications/{entity_id}/movies",
)
