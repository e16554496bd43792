"""Emailed one-time tokens: account activation and password reset.

Both tables (`activation_tokens`, `password_reset_tokens`) hold at most one row
per user: issuing a token replaces the previous one, so only the newest email
works. Only the SHA-256 of the secret is stored (`security.new_email_token`).
A token is used up by deleting its row; the DELETE ... RETURNING that consumes
it also checks owner, hash and expiry, so two concurrent uses of one token
cannot both succeed.
"""

from __future__ import annotations

from datetime import timedelta

from cinema.accounts.errors import InvalidToken
from cinema.accounts.security import new_email_token, sha256
from cinema.accounts.tables import ActivationToken, PasswordResetToken, User
from cinema.clock import utcnow

TokenTable = type[ActivationToken] | type[PasswordResetToken]


async def issue(table: TokenTable, user_id: int, ttl: timedelta) -> str:
    """Store a fresh token for `user_id` (replacing any previous one); returns the secret to email.

    Call inside the caller's transaction.
    """
    secret, digest = new_email_token()
    await table.delete().where(table.user == user_id).run()
    await table(user=user_id, token=digest, expires_at=utcnow() + ttl).save()
    return secret


async def consume(table: TokenTable, email: str, secret: str) -> int:
    """Use up the token `secret` of the account `email`; returns the user id.

    Raises `InvalidToken` (400 `invalid_token`) when the token is unknown, was
    issued for another account, has expired or was already used. Call inside
    the caller's transaction, so the deletion rolls back with it.
    """
    owner = await User.select(User.id).where(User.email == User.normalize_email(email)).first().run()
    if owner is None:
        raise InvalidToken()
    user_id = int(owner["id"])
    used = (
        await table.delete()
        .where((table.user == user_id) & (table.token == sha256(secret)) & (table.expires_at > utcnow()))
        .returning(table.id)
        .run()
    )
    if not used:
        raise InvalidToken()
    return user_id


async def is_valid(table: TokenTable, email: str, secret: str) -> bool:
    """True when `secret` is the live token of the account `email` (does not use it up)."""
    return bool(
        await table.exists()
        .where(
            (table.user.email == User.normalize_email(email))
            & (table.token == sha256(secret))
            & (table.expires_at > utcnow())
        )
        .run()
    )


async def discard(table: TokenTable, user_id: int) -> None:
    """Delete a user's pending token of this kind (e.g. activation after a manual activation)."""
    await table.delete().where(table.user == user_id).run()
