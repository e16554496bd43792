"""HTTP routes for accounts (docs/api.md, "Accounts"). Thin: parse, call one service function, render.

The routes only authenticate; who may manage accounts (ADMIN) is decided by
the accounts service from the caller it is given (`actor`). The avatar routes
(`/accounts/me/avatar`) live in `avatars.py`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from cinema.accounts import service
from cinema.accounts.actor import GroupName
from cinema.accounts.errors import (
    AccountDeactivated,
    BearerTokenInvalid,
    EmailTaken,
    InactiveAccount,
    InvalidCredentials,
    InvalidToken,
    LastAdmin,
    RefreshTokenExpired,
    RefreshTokenReused,
    RefreshTokenRevoked,
    UserNotFound,
    WeakPassword,
    WrongPassword,
)
from cinema.accounts.schemas import (
    ActivateIn,
    EmailIn,
    EmailToken,
    GivenPassword,
    GroupIn,
    LoginIn,
    LookupEmail,
    MessageOut,
    PasswordChangeIn,
    PasswordResetIn,
    PasswordSetIn,
    ProfileOut,
    ProfileUpdate,
    RefreshIn,
    RegisterIn,
    TokenOut,
    UserOut,
)
from cinema.api.deps import ROLE_ERRORS, SIGNED_IN_ERRORS, Paging, User
from cinema.api.errors import error_responses
from cinema.commerce import guestcart
from cinema.errors import TooManyRequests
from cinema.ids import UserId
from cinema.pagination import Page
from cinema.text import NoControlCharacters

router = APIRouter(tags=["accounts"])

_SIGNED_IN = SIGNED_IN_ERRORS
#: Managing accounts is the ADMIN's (decided by the service).
_ADMIN = ROLE_ERRORS


def _client_ip(request: Request) -> str | None:
    """The caller's address (the proxy's client when uvicorn runs with `--proxy-headers`)."""
    return request.client.host if request.client else None


class TokenForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form, with `username` checked like `LoginIn.email` and `password` like its password."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[LookupEmail, Form()],
        password: Annotated[GivenPassword, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


@router.post(
    "/accounts/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Sign up",
    responses=error_responses(EmailTaken, WeakPassword),
)
async def register(body: RegisterIn) -> UserOut:
    """Create an inactive account and email its activation link (valid 24 h).

    `cart_movie_ids` (optional, at most 100) is a guest cart merged into the new account's cart.
    """
    return await guestcart.register(body.email, body.password, body.cart_movie_ids)


@router.post(
    "/accounts/activate",
    response_model=UserOut,
    summary="Activate with the emailed token",
    responses=error_responses(InvalidToken),
)
async def activate(body: ActivateIn) -> UserOut:
    return await service.activate(body.email, body.token)


@router.get(
    "/accounts/activate",
    response_model=UserOut,
    summary="Activate from the emailed link",
    responses=error_responses(InvalidToken),
)
async def activate_link(
    email: Annotated[LookupEmail, Query()], token: Annotated[EmailToken, Query()]
) -> UserOut:
    """The link in the activation email: `?email=...&token=...`."""
    return await service.activate(email, token)


@router.post(
    "/accounts/activation/resend",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    summary="Send the activation email again",
)
async def resend_activation(body: EmailIn, request: Request) -> MessageOut:
    """Always 202: a fresh 24 h token is emailed only if the account exists and is not active yet.

    At most 3 such emails per address and 10 requests per client an hour (settings `EMAIL_*`);
    beyond, nothing is sent and the answer is the same.
    """
    await service.resend_activation(body.email, _client_ip(request))
    return MessageOut(
        detail="If this account exists and is not active yet, a new activation email is on its way."
    )


@router.post(
    "/accounts/login",
    response_model=TokenOut,
    summary="Sign in",
    responses=error_responses(InvalidCredentials, InactiveAccount, AccountDeactivated, TooManyRequests),
)
async def login(body: LoginIn, request: Request) -> TokenOut:
    """Exchange email and password for an access token and a refresh token.

    `cart_movie_ids` (optional) is a guest cart merged into the account's cart.
    """
    return await guestcart.login(body.email, body.password, _client_ip(request), body.cart_movie_ids)


@router.post(
    "/accounts/token",
    response_model=TokenOut,
    summary="Sign in (OAuth2 password form)",
    responses=error_responses(InvalidCredentials, InactiveAccount, AccountDeactivated, TooManyRequests),
)
async def token(form: Annotated[TokenForm, Depends()], request: Request) -> TokenOut:
    """The OAuth2 password flow used by the docs' Authorize button: `username` is the email."""
    return await service.login(form.username, form.password, _client_ip(request))


@router.post(
    "/accounts/refresh",
    response_model=TokenOut,
    summary="Rotate the refresh token",
    responses=error_responses(
        BearerTokenInvalid, RefreshTokenExpired, RefreshTokenRevoked, RefreshTokenReused
    ),
)
async def refresh(body: RefreshIn) -> TokenOut:
    """A new access token and a new refresh token; the presented refresh token dies."""
    return await service.refresh(body.refresh_token)


@router.post(
    "/accounts/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Sign out",
    responses=error_responses(*_SIGNED_IN),
)
async def logout(body: RefreshIn, user: User) -> None:
    """End the session: its refresh token and every access token of it stop working at once."""
    await service.logout(user, body.refresh_token)


@router.post(
    "/accounts/password/change",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Change the password",
    responses=error_responses(*_SIGNED_IN, WrongPassword, WeakPassword, TooManyRequests),
)
async def change_password(body: PasswordChangeIn, user: User, request: Request) -> None:
    """Other sessions are signed out; this one keeps working."""
    await service.change_password(
        user.id, user.session_id, body.old_password, body.new_password, _client_ip(request)
    )


@router.post(
    "/accounts/password/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageOut,
    summary="Email a password reset token",
)
async def forgot_password(body: EmailIn, request: Request) -> MessageOut:
    """Always 202: the reset email (token valid 1 h) goes out only if the account exists and is active.

    At most 3 such emails per address and 10 requests per client an hour (settings `EMAIL_*`);
    beyond, nothing is sent and the answer is the same.
    """
    await service.forgot_password(body.email, _client_ip(request))
    return MessageOut(detail="If this account exists and is active, a password reset email is on its way.")


@router.post(
    "/accounts/password/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Set a new password with the emailed token",
    responses=error_responses(InvalidToken, WeakPassword),
)
async def reset_password(body: PasswordResetIn) -> None:
    """Every session of the account is signed out; the token is used up."""
    await service.reset_password(body.email, body.token, body.new_password)


@router.get(
    "/accounts/me",
    response_model=UserOut,
    summary="The signed-in account",
    responses=error_responses(*_SIGNED_IN),
)
async def me(user: User) -> UserOut:
    return await service.get_me(user.id)


@router.get(
    "/accounts/me/profile",
    response_model=ProfileOut,
    summary="My profile",
    responses=error_responses(*_SIGNED_IN),
)
async def get_profile(user: User) -> ProfileOut:
    return await service.get_profile(user.id)


@router.patch(
    "/accounts/me/profile",
    response_model=ProfileOut,
    summary="Update my profile",
    responses=error_responses(*_SIGNED_IN),
)
async def update_profile(body: ProfileUpdate, user: User) -> ProfileOut:
    """Only the fields sent change; `null` clears one. `gender` is MALE or FEMALE; no birth date in the future."""
    return await service.update_profile(user.id, body)


@router.get(
    "/accounts/users",
    response_model=Page[UserOut],
    summary="List users (ADMIN)",
    responses=error_responses(*_ADMIN),
)
async def list_users(
    user: User,
    paging: Paging,
    email: Annotated[
        Annotated[str, NoControlCharacters()] | None,
        Query(max_length=255, description="Part of the email, any case"),
    ] = None,
    group: GroupName | None = None,
    is_active: bool | None = None,
) -> Page[UserOut]:
    return await service.list_users(user, paging, email=email, group=group, is_active=is_active)


@router.get(
    "/accounts/users/{user_id}",
    response_model=UserOut,
    summary="One user (ADMIN)",
    responses=error_responses(*_ADMIN, UserNotFound),
)
async def get_user(user_id: UserId, user: User) -> UserOut:
    return await service.get_user(user, user_id)


@router.patch(
    "/accounts/users/{user_id}/group",
    response_model=UserOut,
    summary="Change a user's group (ADMIN)",
    responses=error_responses(*_ADMIN, UserNotFound, LastAdmin),
)
async def set_group(user_id: UserId, body: GroupIn, user: User) -> UserOut:
    return await service.set_group(user, user_id, body.group)


@router.post(
    "/accounts/users/{user_id}/activate",
    response_model=UserOut,
    summary="Activate a user (ADMIN)",
    responses=error_responses(*_ADMIN, UserNotFound),
)
async def activate_user(user_id: UserId, user: User) -> UserOut:
    return await service.set_active(user, user_id, True)


@router.post(
    "/accounts/users/{user_id}/deactivate",
    response_model=UserOut,
    summary="Deactivate a user (ADMIN)",
    responses=error_responses(*_ADMIN, UserNotFound, LastAdmin),
)
async def deactivate_user(user_id: UserId, user: User) -> UserOut:
    """Every session of the user ends at once."""
    return await service.set_active(user, user_id, False)


@router.put(
    "/accounts/users/{user_id}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Set a user's password (ADMIN)",
    responses=error_responses(*_ADMIN, UserNotFound, WeakPassword),
)
async def set_user_password(user_id: UserId, body: PasswordSetIn, user: User) -> None:
    """Every session of the user ends (API tokens and admin sign-ins); they get a "password changed" email."""
    await service.set_password(user, user_id, body.password)
