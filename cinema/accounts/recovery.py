"""Passwords: change (signed in), forgot (email a reset token), reset (with the token).

A change ends every other session of the user; a reset ends all of them and
clears the account's failed-login lockout. "Sessions" means every door's:
API tokens and Piccolo Admin cookies (`sessions.revoke_all_sessions`). Either way the owner gets a
"password changed" email, so a takeover does not go unnoticed. Reset tokens
live `RESET_TOKEN_TTL_HOURS` (1 h by default), single-use, newest only.
"""

from __future__ import annotations

from datetime import timedelta

from cinema.accounts import mailthrottle, onetime, passwords, ratelimit, sessions
from cinema.accounts.errors import InvalidToken, SessionEnded, WrongPassword
from cinema.accounts.security import no_sooner_than
from cinema.accounts.tables import PasswordResetToken, User
from cinema.config import get_settings
from cinema.db import transaction
from cinema.jobs import enqueue_email


async def change_password(
    user_id: int, session_id: str | None, old_password: str, new_password: str, client_ip: str | None
) -> None:
    """Replace the password after checking the current one; other sessions end.

    `session_id` is the key of the API session making the change, which stays open; None
    (the admin UI's change-password page, which has no API session) ends them all.

    Wrong old passwords count as failed sign-ins (a stolen access token must not
    allow guessing the password). Raises `WeakPassword` (422
    `weak_password`), `TooManyRequests` (429), `WrongPassword` (400
    `wrong_password`), `SessionEnded` (401) when the account is gone.
    """
    passwords.validate(new_password)
    row = (
        await User.select(User.email, User.password.as_alias("password_hash"))
        .where(User.id == user_id)
        .first()
        .run()
    )
    if row is None:
        raise SessionEnded()
    email = str(row["email"])
    attempt = await ratelimit.reserve(email, client_ip)  # counted before bcrypt: holds for bursts
    if not await passwords.verify_password(old_password, row["password_hash"]):
        raise WrongPassword()
    await ratelimit.release(attempt)
    hashed = await passwords.hash_password(new_password)
    async with transaction() as hooks:
        await User.update({User.password: hashed}).where(User.id == user_id).run()
        await sessions.revoke_all_sessions(user_id, except_session=session_id)
        hooks.add(enqueue_email("password_changed", email))


async def forgot_password(email: str, client_ip: str | None = None) -> None:
    """Email a reset token (replacing any earlier one) if the account exists and is active.

    Does nothing otherwise and never says which (no account enumeration),
    not even by its timing: both paths take at least `no_sooner_than`'s floor.
    Throttled per address and per client (`mailthrottle`): over the limit,
    nothing is sent either, and that does not show.
    """
    email = User.normalize_email(email)
    ttl = get_settings().reset_token_ttl_hours
    async with no_sooner_than(), transaction() as hooks:
        if not await mailthrottle.admit("password_reset", email, client_ip):
            return
        row = await User.select(User.id).where((User.email == email) & User.active.eq(True)).first().run()
        if row is None:
            return
        secret = await onetime.issue(PasswordResetToken, int(row["id"]), timedelta(hours=ttl))
        hooks.add(enqueue_email("password_reset", email, token=secret, ttl_hours=ttl))


async def reset_password(email: str, token: str, new_password: str) -> None:
    """Set a new password with an emailed reset token; every session of the user ends.

    Raises `WeakPassword` (422 `weak_password`) and `InvalidToken` (400
    `invalid_token`: unknown, used, expired, another account's, or the account
    was deactivated since).
    """
    passwords.validate(new_password)
    email = User.normalize_email(email)
    # Cheap check first, so a wrong token costs no bcrypt work; the consuming
    # DELETE below re-checks everything atomically.
    if not await onetime.is_valid(PasswordResetToken, email, token):
        raise InvalidToken()
    hashed = await passwords.hash_password(new_password)
    async with transaction() as hooks:
        user_id = await onetime.consume(PasswordResetToken, email, token)
        updated = (
            await User.update({User.password: hashed})
            .where((User.id == user_id) & User.active.eq(True))
            .returning(User.id)
            .run()
        )
        if not updated:
            raise InvalidToken()
        await sessions.revoke_all_sessions(user_id)
        hooks.add(enqueue_email("password_changed", email))
    await ratelimit.clear(email)
