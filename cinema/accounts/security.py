"""JWT access/refresh tokens (pyjwt) and one-time email tokens.

Both JWTs are HS256 with a fixed algorithm list (no `alg: none`, no algorithm
confusion) and carry `sub` (user id), `sid` (the session's key,
`refresh_tokens.session_key`), `type` (`access` or `refresh`), `iat`, `exp`
and `jti`. A token is only as alive as its session row: logout, password
change or reuse detection delete the row, which ends the refresh token and
every access token of the session at once.

The session key is a random value, never a row id: SQLite hands a deleted
row's id out again, so a token naming its session by id would come back to
life when a later login (of anyone) got that id. A random key is never
issued twice, so a session that ended stays ended (docs/sessions.md).

Emailed activation/reset tokens are random URL-safe strings; only their
SHA-256 is stored, so a database leak does not leak usable tokens.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

from cinema.accounts.errors import AccessTokenRequired, BearerTokenInvalid, RefreshTokenRequired, TokenExpired
from cinema.clock import utcnow
from cinema.config import get_settings
from cinema.ids import is_id

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]


#: What a session key looks like: `secrets.token_urlsafe(32)`, 43 URL-safe characters.
SESSION_KEY = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class TokenClaims:
    """Verified claims of a JWT. `expires_at` is UTC; `session_id` is the session's random key."""

    user_id: int
    session_id: str
    token_type: TokenType
    jti: str
    expires_at: datetime


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_jti() -> str:
    return uuid.uuid4().hex


def new_session_key() -> str:
    """A fresh session key (256 random bits): the `sid` of the session's tokens."""
    return secrets.token_urlsafe(32)


def encode_token(
    user_id: int, session_id: str, token_type: TokenType, ttl: timedelta, jti: str | None = None
) -> tuple[str, datetime]:
    """Sign a JWT; returns (token, expires_at UTC)."""
    now = utcnow()
    expires_at = now + ttl
    payload = {
        "sub": str(user_id),
        "sid": session_id,
        "type": token_type,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": jti or new_jti(),
    }
    token = jwt.encode(payload, get_settings().jwt_secret_key, algorithm=ALGORITHM)
    return token, expires_at


def decode_token(token: str, expected_type: TokenType) -> TokenClaims:
    """Verify signature, expiry and type.

    Raises `TokenExpired` (401 `token_expired`) past `exp`, else a `BearerTokenInvalid`
    (401 `invalid_token`): forged, malformed, or the other type of token.
    """
    try:
        payload = jwt.decode(
            token,
            get_settings().jwt_secret_key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "sid", "type", "exp", "iat", "jti"]},
        )
        claims = TokenClaims(
            user_id=int(payload["sub"]),
            session_id=payload["sid"],
            token_type=payload["type"],
            jti=str(payload["jti"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired() from exc
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError, OSError) as exc:
        # OverflowError/OSError: an `exp` beyond what a datetime can hold.
        raise BearerTokenInvalid() from exc
    if not is_id(claims.user_id):
        # Ids are INTEGER columns: a larger `sub` cannot name a row (and would
        # overflow the database's bind parameter).
        raise BearerTokenInvalid()
    if not (isinstance(claims.session_id, str) and SESSION_KEY.fullmatch(claims.session_id)):
        # Tokens issued before session keys carried the row id (an integer):
        # they name no session any more.
        raise BearerTokenInvalid()
    if claims.token_type != expected_type:
        raise AccessTokenRequired() if expected_type == "access" else RefreshTokenRequired()
    return claims


def new_email_token() -> tuple[str, str]:
    """A fresh one-time token: (secret to email, SHA-256 to store)."""
    secret = secrets.token_urlsafe(32)
    return secret, sha256(secret)


#: How long `POST /accounts/password/forgot` and `/accounts/activation/resend`
#: take at least, whether or not the email has an account (see `no_sooner_than`).
UNIFORM_ANSWER_SECONDS = 0.05


@asynccontextmanager
async def no_sooner_than(seconds: float = UNIFORM_ANSWER_SECONDS) -> AsyncIterator[None]:
    """Make the enclosed block take at least `seconds` (pads with a sleep at the end).

    For answers that must not reveal whether an account exists by their
    timing: writing a token and enqueueing an email takes some milliseconds
    that an unknown email would not, so both paths are padded to the same
    floor, well above that work. (The answer bodies are identical already.)
    """
    started = time.monotonic()
    try:
        yield
    finally:
        remaining = seconds - (time.monotonic() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
