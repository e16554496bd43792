"""Signing in and out: login (password -> token pair), refresh (rotation), logout.

Login is throttled per account and per client address (`ratelimit`); an
unknown email costs the same bcrypt work as a wrong password, so neither the
answer nor its timing tells whether an account exists. The tokens and their
session rules are in `sessions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cinema.accounts import passwords, ratelimit, sessions
from cinema.accounts.actor import CurrentUser
from cinema.accounts.errors import AccountDeactivated, InactiveAccount, InvalidCredentials
from cinema.accounts.schemas import TokenOut
from cinema.accounts.sessions import TokenPair
from cinema.accounts.tables import User


def _out(pair: TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
    )


@dataclass(frozen=True)
class Credentials:
    """A right email and password: whose, and whether the account may sign in."""

    user_id: int
    active: bool
    #: Deactivated by staff (not merely never activated).
    deactivated: bool


async def check_credentials(email: str, password: str, client_ip: str | None) -> Credentials:
    """Verify an email and password under the sign-in limits; returns the account's `Credentials`.

    Shared by login, `POST /accounts/token` and the docs' HTTP Basic guard, so
    every password check counts against the same limits. The attempt is
    recorded before bcrypt runs (`ratelimit.reserve`), so the limit holds for
    simultaneous attempts. Raises `TooManyRequests` (429) when the account or
    the address is locked (no password check then) and `InvalidCredentials`
    (401 `invalid_credentials`) for an unknown email or a wrong password. A
    right password clears the account's failures when it is active.
    """
    email = User.normalize_email(email)
    attempt = await ratelimit.reserve(email, client_ip)
    row = (
        await User.select(
            User.id,
            User.password.as_alias("password_hash"),
            User.active.as_alias("active"),
            User.deactivated_at.as_alias("deactivated_at"),
        )
        .where(User.email == email)
        .first()
        .run()
    )
    if row is None:
        ok = await passwords.dummy_verify(password)
    else:
        ok = await passwords.verify_password(password, row["password_hash"])
    if row is None or not ok:
        raise InvalidCredentials()  # the reserved attempt stays: it is the failure
    active = bool(row["active"])
    if active:
        await ratelimit.clear(email)
    else:
        await ratelimit.release(attempt)
    return Credentials(int(row["id"]), active, row["deactivated_at"] is not None)


@dataclass(frozen=True)
class SignedIn:
    """A session just opened: whose it is, and its token pair."""

    user_id: int
    tokens: TokenOut


async def sign_in(email: str, password: str, client_ip: str | None) -> SignedIn:
    """Check the password and open a session.

    Raises `TooManyRequests` (429) when the account or the address has failed
    too often, `InvalidCredentials` (401 `invalid_credentials`) for an unknown
    email or a wrong password, `InactiveAccount` (403 `inactive_account`) for
    a right password on an account not activated yet, or `AccountDeactivated`
    (the same code, its own sentence) when staff deactivated it.
    """
    found = await check_credentials(email, password, client_ip)
    if found.deactivated:
        raise AccountDeactivated()
    if not found.active:
        raise InactiveAccount()
    return SignedIn(found.user_id, _out(await sessions.open_session(found.user_id)))


async def login(email: str, password: str, client_ip: str | None) -> TokenOut:
    """`sign_in`, answering only the token pair."""
    return (await sign_in(email, password, client_ip)).tokens


async def refresh(refresh_token: str) -> TokenOut:
    """Rotate a refresh token into a new pair. Raises a `BearerTokenInvalid` (401 `invalid_token`).

    Presenting an already-rotated token ends its whole session (reuse detection).
    """
    return _out(await sessions.rotate(refresh_token))


async def logout(user: CurrentUser, refresh_token: str) -> None:
    """End the caller's session: its refresh and access tokens stop working at once."""
    await sessions.logout(user, refresh_token)
