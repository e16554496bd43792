"""Login sessions: issuing, rotating and ending token pairs, and authenticating requests.

A session is one `refresh_tokens` row, named by a random `session_key` that
both of its tokens carry as `sid` (see `security`). Rules:
- login opens a session and returns an access + refresh pair;
- refresh rotates: the presented refresh token must carry the session's
  current `jti`; a stale `jti` means the token was stolen or replayed, so the
  whole session is deleted (OAuth 2.0 Security BCP, refresh token rotation);
- every authenticated request re-reads the user and its session, so logout,
  deactivation and deletion take effect at once;
- `revoke_all_sessions` is the one way an account's sessions end (password
  change, reset or set by staff, deactivation, group change, deletion): it
  ends the API sessions and the Piccolo Admin cookies together. A session
  that ended is gone for good: its key is never issued again, and
  re-activating the account brings nothing back (docs/sessions.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.accounts.errors import (
    RefreshTokenExpired,
    RefreshTokenReused,
    RefreshTokenRevoked,
    SessionEnded,
    TokenExpired,
)
from cinema.accounts.security import (
    TokenClaims,
    decode_token,
    encode_token,
    new_jti,
    new_session_key,
    sha256,
)
from cinema.accounts.tables import AdminSession, RefreshToken
from cinema.clock import utcnow
from cinema.config import get_settings
from cinema.db import fetch, transaction
from cinema.errors import NotAuthenticated


@dataclass(frozen=True)
class TokenPair:
    """What login and refresh answer. `expires_in` is the access token's life in seconds."""

    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2.0 token type, not a secret


def _ttls() -> tuple[timedelta, timedelta]:
    settings = get_settings()
    return (
        timedelta(minutes=settings.access_token_ttl_minutes),
        timedelta(days=settings.refresh_token_ttl_days),
    )


def _pair(user_id: int, session_id: str, jti: str) -> TokenPair:
    access_ttl, refresh_ttl = _ttls()
    access, _ = encode_token(user_id, session_id, "access", access_ttl)
    refresh, _ = encode_token(user_id, session_id, "refresh", refresh_ttl, jti=jti)
    return TokenPair(access, refresh, int(access_ttl.total_seconds()))


async def open_session(user_id: int) -> TokenPair:
    """Start a session for `user_id` (already authenticated) and return its tokens."""
    _, refresh_ttl = _ttls()
    jti, key = new_jti(), new_session_key()
    await RefreshToken.insert(
        RefreshToken(user=user_id, session_key=key, token=sha256(jti), expires_at=utcnow() + refresh_ttl)
    ).run()
    return _pair(user_id, key, jti)


async def rotate(refresh_token: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the presented one dies.

    Raises a `BearerTokenInvalid` (401 `invalid_token`) for a bad, expired,
    rotated or logged-out token, or an inactive user; a rotated token's reuse
    also ends the session it belonged to (`RefreshTokenReused`).
    """
    try:
        claims = decode_token(refresh_token, "refresh")
    except TokenExpired as exc:  # an expired refresh token is `invalid_token` (docs/api.md, "Accounts")
        raise RefreshTokenExpired() from exc
    _, refresh_ttl = _ttls()
    async with transaction():
        session = (
            await RefreshToken.select(
                RefreshToken.token, RefreshToken.expires_at, RefreshToken.user.active.as_alias("user_active")
            )
            .where((RefreshToken.session_key == claims.session_id) & (RefreshToken.user == claims.user_id))
            .first()
            .run()
        )
        if session is None or session["expires_at"] <= utcnow() or not session["user_active"]:
            raise RefreshTokenRevoked()
        reused = session["token"] != sha256(claims.jti)
        jti = new_jti()
        if reused:
            # Deleted in this (committing) transaction: raising inside it would roll the deletion back.
            await RefreshToken.delete().where(RefreshToken.session_key == claims.session_id).run()
            updated = []
        else:
            # The WHERE on the old hash makes two concurrent refreshes of one token
            # race safely: only one UPDATE matches.
            updated = (
                await RefreshToken.update(
                    {RefreshToken.token: sha256(jti), RefreshToken.expires_at: utcnow() + refresh_ttl}
                )
                .where(
                    (RefreshToken.session_key == claims.session_id)
                    & (RefreshToken.token == sha256(claims.jti))
                )
                .returning(RefreshToken.id)
                .run()
            )
    if reused:
        raise RefreshTokenReused()
    if not updated:
        raise RefreshTokenRevoked()
    return _pair(claims.user_id, claims.session_id, jti)


async def logout(user: CurrentUser, refresh_token: str) -> None:
    """End the caller's session and the one `refresh_token` belongs to (normally the same).

    The refresh token only counts when it is a valid token of the same user; a
    bad, expired or foreign one is ignored, and the access token's session still ends.
    """
    sessions_to_end = {user.session_id}
    try:
        claims = decode_token(refresh_token, "refresh")
    except NotAuthenticated:
        claims = None
    if claims is not None and claims.user_id == user.id:
        sessions_to_end.add(claims.session_id)
    await (
        RefreshToken.delete()
        .where(RefreshToken.session_key.is_in(sorted(sessions_to_end)) & (RefreshToken.user == user.id))
        .run()
    )


async def revoke_all_sessions(user_id: int, *, except_session: str | None = None) -> None:
    """End every session of a user, in every door: API tokens and Piccolo Admin cookies.

    The one mechanism behind password change, reset and set-by-staff,
    deactivation, group change and deletion, whichever door caused them (API,
    CLI, admin UI). `except_session` (a session key, the `sid` of the caller's
    tokens) keeps the API session that asked, as a password change does.
    Call it inside the transaction that makes the change, so both commit or
    neither does. Deleted rows cannot come back: re-activating the account
    later opens nothing, and a new session always gets a new key.
    """
    query = RefreshToken.delete().where(RefreshToken.user == user_id)
    if except_session is not None:
        query = query.where(RefreshToken.session_key != except_session)
    await query.run()
    await AdminSession.delete().where(AdminSession.user_id == user_id).run()


#: The caller, their role and their live session, in one statement (both engines).
#: The session is found by its unique key (an index lookup) and must belong to `sub`.
_CALLER_COLUMNS = "u.id, u.email, u.is_active AS active, g.name AS group_name"
_SESSION_FROM = (
    "FROM refresh_tokens r JOIN users u ON u.id = r.user_id JOIN user_groups g ON g.id = u.group_id"
)
_SESSION_WHERE = "WHERE r.session_key = {} AND r.user_id = {} AND r.expires_at > {}"
_AUTHENTICATE_SQL = f"SELECT {_CALLER_COLUMNS} {_SESSION_FROM} {_SESSION_WHERE}"


@functools.lru_cache(maxsize=32)
def authenticate_sql(columns: str, joins: str = "") -> str:
    """`authenticate`'s statement, reading `columns` too (through `joins`) in the same round trip.

    Both may use `u` (the caller's `users` row) and bind `{}` placeholders:
    theirs come first, in order, then the session check's three.
    """
    return f"SELECT {_CALLER_COLUMNS}, {columns} {_SESSION_FROM} {joins} {_SESSION_WHERE}"


async def authenticate(access_token: str) -> CurrentUser:
    """Resolve a Bearer access token to the caller, in one hand-written query.

    Every authenticated request runs it, so it skips the query builder: the user,
    their group's name and the session (by id, unexpired) joined in one
    parameterised statement. The session is looked up by its random key, so
    a token of an ended session matches nothing, whatever ids the database
    has handed out since. Raises `TokenExpired` or a `BearerTokenInvalid` (401)
    when the token is bad or expired, its session ended, or the user is gone or inactive.
    """
    claims = decode_token(access_token, "access")
    rows = await fetch(_AUTHENTICATE_SQL, claims.session_id, claims.user_id, utcnow())
    return _caller(claims, rows)


async def authenticate_with(access_token: str, statement: str, *args: Any) -> tuple[CurrentUser, Any]:
    """`authenticate`, and the row of `statement` (from `authenticate_sql`) read in the same round trip.

    For the hottest authenticated reads (playback): one statement instead of
    two. `args` are the statement's own placeholders; the session check's
    are added here. Raises like `authenticate`.
    """
    claims = decode_token(access_token, "access")
    rows = await fetch(statement, *args, claims.session_id, claims.user_id, utcnow())
    return _caller(claims, rows), rows[0]


def _caller(claims: TokenClaims, rows: list[Any]) -> CurrentUser:
    """The caller of a valid session's row; `SessionEnded` when there is none or they are inactive."""
    row = rows[0] if rows else None
    if row is None or not row["active"]:
        raise SessionEnded()
    return CurrentUser(
        id=int(row["id"]),
        email=str(row["email"]),
        group=GroupName(row["group_name"]),
        session_id=claims.session_id,
    )


async def purge_expired(now: datetime | None = None) -> int:
    """Delete expired sessions; returns how many."""
    rows = (
        await RefreshToken.delete()
        .where(RefreshToken.expires_at <= (now or utcnow()))
        .returning(RefreshToken.id)
        .run()
    )
    return len(rows)
