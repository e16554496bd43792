"""JWT access/refresh tokens (pyjwt) and one-time email tokens.

Both JWTs are HS256 with a fixed algorithm list (no `alg: none`, no algorithm
confusion) and carry `sub` (user id), `sid` (session = `refresh_tokens.id`),
`type` (`access` or `refresh`), `iat`, `exp` and `jti`. A token is only as
alive as its session row: logout, password change or reuse detection delete
the row, which ends the refresh token and every access token of the session
at once.

Emailed activation/reset tokens are random URL-safe strings; only their
SHA-256 is stored, so a database leak does not leak usable tokens.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

from cinema.config import get_settings
from cinema.errors import NotAuthenticated

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]


@dataclass(frozen=True)
class TokenClaims:
    """Verified claims of a JWT. `expires_at` is UTC."""

    user_id: int
    session_id: int
    token_type: TokenType
    jti: str
    expires_at: datetime


def utcnow() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_jti() -> str:
    return uuid.uuid4().hex


def encode_token(
    user_id: int, session_id: int, token_type: TokenType, ttl: timedelta, jti: str | None = None
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
    """Verify signature, expiry and type. Raises `NotAuthenticated` (code `invalid_token`)."""
    try:
        payload = jwt.decode(
            token,
            get_settings().jwt_secret_key,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "sid", "type", "exp", "iat", "jti"]},
        )
        claims = TokenClaims(
            user_id=int(payload["sub"]),
            session_id=int(payload["sid"]),
            token_type=payload["type"],
            jti=str(payload["jti"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        )
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("The token has expired.", code="token_expired") from exc
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise NotAuthenticated("The token is invalid.", code="invalid_token") from exc
    if claims.token_type != expected_type:
        raise NotAuthenticated(f"An {expected_type} token is required.", code="invalid_token")
    return claims


def new_email_token() -> tuple[str, str]:
    """A fresh one-time token: (secret to email, SHA-256 to store)."""
    secret = secrets.token_urlsafe(32)
    return secret, sha256(secret)
