"""Accounts' error conditions: one class, one `code`, one sentence each (docs/errors.md).

Other domains import these (a missing user is `user_not_found` everywhere);
they never declare their own. Facts that vary (which password rules broke,
the role an action needs) go in extra body fields, not in the sentence.
"""

from __future__ import annotations

from cinema.errors import (
    CinemaError,
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedMediaType,
    ValidationFailed,
)

#: The avatar size cap, in MiB (`cinema.accounts.avatars.MAX_AVATAR_BYTES`).
MAX_AVATAR_MB = 5


class UserNotFound(NotFound):
    code = "user_not_found"
    default_detail = "The user does not exist."


class EmailTaken(Conflict):
    """Emails are compared in lower case, so `A@x.io` and `a@x.io` are one account."""

    code = "email_taken"
    default_detail = "An account with this email already exists."


class InvalidEmail(ValidationFailed):
    """The body's `reason` field says what is wrong with the address."""

    code = "invalid_email"
    default_detail = "The email address is not valid."


class WeakPassword(ValidationFailed):
    """The body's `problems` field lists the rules the password breaks (cinema/accounts/passwords.py)."""

    code = "weak_password"
    default_detail = (
        "The password must be 8 to 64 characters (at most 72 bytes in UTF-8) with a lower-case "
        "letter, an upper-case letter, a digit and a symbol, and no control characters."
    )


class WrongPassword(InvalidInput):
    code = "wrong_password"
    default_detail = "The current password is not correct."


class LastAdmin(Conflict):
    """Demoting, deactivating or deleting the only active ADMIN would leave nobody to manage the system."""

    code = "last_admin"
    default_detail = "This is the last active ADMIN; make another ADMIN first."


class UserHasOrders(Conflict):
    code = "user_has_orders"
    default_detail = "The user has orders or payments, which must be kept; deactivate the account instead."


class RoleRequired(PermissionDenied):
    """The caller's role is below the one the action needs.

    Keeps the public `permission_denied` code; the role needed is the body's
    `required_group` field.
    """

    default_detail = "Your role does not allow this."


# Signing in.


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    default_detail = "The email or password is incorrect."


class InactiveAccount(PermissionDenied):
    code = "inactive_account"
    default_detail = "This account is not active. Check your email for the activation link."


class AccountDeactivated(InactiveAccount):
    """Deactivated by staff: only staff may activate it again (no self-service re-activation)."""

    default_detail = "This account was deactivated by staff. Contact support to have it re-activated."


# Tokens.


class InvalidToken(CinemaError):
    """An activation or password-reset token that is unknown, used, expired or another account's (400)."""

    status_code = 400
    code = "invalid_token"
    default_detail = "The token is invalid, used or expired."


class TokenExpired(NotAuthenticated):
    """An access token past its `exp`: the client refreshes it."""

    code = "token_expired"
    default_detail = "The token has expired."


class BearerTokenInvalid(NotAuthenticated, InvalidToken):
    """A session token (access or refresh) that cannot be used: 401 with the public `invalid_token` code.

    It shares the code of the 400 `InvalidToken` (docs/api.md, "Accounts") but is
    answered as failed authentication, with `WWW-Authenticate: Bearer`.
    """

    status_code = 401
    code = "invalid_token"
    default_detail = "The token is invalid."


class AccessTokenRequired(BearerTokenInvalid):
    default_detail = "An access token is required."


class RefreshTokenRequired(BearerTokenInvalid):
    default_detail = "A refresh token is required."


class RefreshTokenExpired(BearerTokenInvalid):
    default_detail = "The refresh token has expired. Sign in again."


class RefreshTokenRevoked(BearerTokenInvalid):
    default_detail = "The refresh token is no longer valid."


class RefreshTokenReused(BearerTokenInvalid):
    """A rotated refresh token came back: it may be stolen, so its whole session ended."""

    default_detail = "This refresh token was already used; the session has been ended."


class SessionEnded(BearerTokenInvalid):
    default_detail = "The session has ended or the account is not active."


# Avatars.


class AvatarNotAnImage(UnsupportedMediaType):
    default_detail = "The avatar must be a JPEG, PNG or WebP image."


class AvatarTooLarge(PayloadTooLarge):
    default_detail = f"The avatar must be at most {MAX_AVATAR_MB} MB."
