"""FastAPI dependencies: settings, the caller, role checks and paging.

Doors only authenticate: `User` is the caller, handed to services as their
`actor`, and the service decides what the caller may do
(cinema/accounts/actor.py). `Moderator` and `Admin` remain for routes whose
whole purpose is a staff one; they check through the same `require_group`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cinema.accounts import actor
from cinema.accounts.actor import CurrentUser, GroupName
from cinema.accounts.errors import (
    AccessTokenRequired,
    BearerTokenInvalid,
    RoleRequired,
    SessionEnded,
    TokenExpired,
)
from cinema.accounts.sessions import authenticate
from cinema.config import Settings, get_settings
from cinema.errors import CinemaError, NotAuthenticated
from cinema.ids import PathId as PathId  # re-exported for the routers
from cinema.pagination import MAX_PER_PAGE, PageParams

#: What a route behind a Bearer token may answer before it runs (for `error_responses`).
SIGNED_IN_ERRORS: tuple[type[CinemaError], ...] = (
    NotAuthenticated,
    TokenExpired,
    BearerTokenInvalid,
    AccessTokenRequired,
    SessionEnded,
)
#: ... and one whose service (or `Moderator`/`Admin` dependency) requires a role.
ROLE_ERRORS: tuple[type[CinemaError], ...] = (*SIGNED_IN_ERRORS, RoleRequired)

_bearer = HTTPBearer(auto_error=False, description="Access token from /accounts/login")


def settings_dep() -> Settings:
    return get_settings()


async def optional_user(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser | None:
    """The caller when a valid Bearer token is sent, else None; a bad token is still 401."""
    if credentials is None:
        return None
    return await authenticate(credentials.credentials)


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated()
    return credentials.credentials


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser:
    """The authenticated caller; 401 with `WWW-Authenticate: Bearer` otherwise."""
    user = await authenticate(_token(credentials))
    request.state.user_id = user.id
    return user


async def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The Bearer access token, NOT yet verified: for a route whose service authenticates it
    in its own statement (`sessions.authenticate_with`). 401 without one, like `current_user`."""
    return _token(credentials)


def require_group(minimum: GroupName):  # type: ignore[no-untyped-def]
    """Dependency factory: the caller must be `minimum` or above, else 403."""

    async def check(user: Annotated[CurrentUser, Depends(current_user)]) -> CurrentUser:
        actor.require_group(user, minimum)
        return user

    return check


#: Any page >= 1 is valid and one past the end is an empty page (docs/api.md, "Conventions"); only
#: numbers beyond the largest exact JSON integer are refused (422), so OFFSET
#: (page * per_page) always fits the database's 64-bit integer.
MAX_PAGE = 2**53


async def page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1")] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Items per page, 1..100")] = 20,
) -> PageParams:
    """`?page=&per_page=`. Async (it never waits) so FastAPI calls it on the event loop,
    not through a threadpool hop as it does for a sync dependency."""
    return PageParams(page=page, per_page=per_page)


User = Annotated[CurrentUser, Depends(current_user)]
#: The unverified Bearer token of a route that authenticates in its service (see `bearer_token`).
BearerToken = Annotated[str, Depends(bearer_token)]
OptionalUser = Annotated[CurrentUser | None, Depends(optional_user)]
Moderator = Annotated[CurrentUser, Depends(require_group(GroupName.MODERATOR))]
Admin = Annotated[CurrentUser, Depends(require_group(GroupName.ADMIN))]
Paging = Annotated[PageParams, Depends(page_params)]
