"""HTTP routes for entitlements (docs/entitlements.md): staff grants and revocations, and the caller's library.

Thin: authenticate, parse, call one service function, render. Who may grant,
revoke or list is decided by the service (ADMIN), not here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from cinema.accounts.errors import RoleRequired, UserNotFound
from cinema.api.deps import Paging, PathId, User
from cinema.api.errors import error_responses
from cinema.api.responses import json_data
from cinema.api.routers.catalog import Filters
from cinema.catalog.errors import MovieNotFound
from cinema.db import MAX_ID
from cinema.entitlements import library, service
from cinema.entitlements.errors import (
    AlreadyOwned,
    AlreadyRevoked,
    EntitlementNotFound,
    InvalidExpiry,
    PurchaseNotRevocable,
    ReasonRequired,
)
from cinema.entitlements.schemas import EntitlementOut, GrantIn, LibraryItem, RevokeIn
from cinema.entitlements.tables import EntitlementSource
from cinema.errors import NotAuthenticated
from cinema.pagination import Page

router = APIRouter(tags=["entitlements"])

FilterId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@router.get(
    "/library",
    response_model=Page[LibraryItem],
    summary="Movies I may watch: owned, rented, granted",
    responses=error_responses(NotAuthenticated),
)
async def my_library(filters: Filters, paging: Paging, user: User) -> Response:
    """The caller's movies with a live right to watch, each with its `access` (kind, end, time left,
    whether a rental has started). The `/movies` filters and sorts apply."""
    return json_data(await library.library_data(user.id, filters, paging))


@router.get(
    "/entitlements",
    response_model=Page[EntitlementOut],
    summary="Entitlements, newest first (ADMIN)",
    responses=error_responses(NotAuthenticated, RoleRequired),
)
async def list_entitlements(
    user: User,
    paging: Paging,
    user_id: Annotated[FilterId, Query(description="Only this user's")] = None,
    movie_id: Annotated[FilterId, Query(description="Only this movie's")] = None,
    source: Annotated[EntitlementSource | None, Query(description="purchase, rental or grant")] = None,
    active: Annotated[
        bool | None, Query(description="true: live now; false: revoked, suspended, ended")
    ] = None,
) -> Page[EntitlementOut]:
    return await service.list_entitlements(
        user, paging, user=user_id, movie_id=movie_id, source=source, active=active
    )


@router.post(
    "/entitlements",
    response_model=EntitlementOut,
    status_code=status.HTTP_201_CREATED,
    summary="Grant a user the right to watch a movie (ADMIN)",
    responses=error_responses(
        NotAuthenticated,
        RoleRequired,
        UserNotFound,
        MovieNotFound,
        AlreadyOwned,
        ReasonRequired,
        InvalidExpiry,
    ),
)
async def grant(body: GrantIn, user: User) -> EntitlementOut:
    """Without `expires_at` the grant lasts forever; a user who already owns the movie for good is 409."""
    return await service.grant(user, body.user_id, body.movie_id, reason=body.reason, expires_at=body.expiry)


@router.get(
    "/entitlements/{entitlement_id}",
    response_model=EntitlementOut,
    summary="One entitlement (ADMIN)",
    responses=error_responses(NotAuthenticated, RoleRequired, EntitlementNotFound),
)
async def get_entitlement(entitlement_id: PathId, user: User) -> EntitlementOut:
    return await service.get_entitlement(user, entitlement_id)


@router.delete(
    "/entitlements/{entitlement_id}",
    response_model=EntitlementOut,
    summary="Revoke a grant or a rental, with a reason (ADMIN)",
    responses=error_responses(
        NotAuthenticated,
        RoleRequired,
        EntitlementNotFound,
        AlreadyRevoked,
        PurchaseNotRevocable,
        ReasonRequired,
    ),
)
async def revoke(entitlement_id: PathId, body: RevokeIn, user: User) -> EntitlementOut:
    """Access ends at once (no new playback URL); a purchase ends through a refund instead (409)."""
    return await service.revoke(user, entitlement_id, reason=body.reason)
