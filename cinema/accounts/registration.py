"""Sign-up: register, activate (by token), resend the activation email.

A new account is inactive until its owner follows the emailed link (24 h by
default, `ACTIVATION_TOKEN_TTL_HOURS`). Emails are enqueued only after the
transaction commits (cinema/jobs.py).
"""

from __future__ import annotations

from datetime import timedelta

from cinema.accounts import mailthrottle, onetime, passwords
from cinema.accounts.actor import GroupName
from cinema.accounts.errors import EmailTaken, InvalidToken
from cinema.accounts.queries import user_out
from cinema.accounts.schemas import UserOut
from cinema.accounts.security import no_sooner_than
from cinema.accounts.tables import ActivationToken, User, UserGroup, UserProfile
from cinema.config import get_settings
from cinema.db import is_unique_violation, transaction
from cinema.jobs import enqueue_email


async def group_id(group: GroupName) -> int:
    """The id of a seeded group."""
    row = await UserGroup.select(UserGroup.id).where(UserGroup.name == group.value).first().run()
    if row is None:  # pragma: no cover - seeded by migration 0002
        raise RuntimeError(f"group {group.value} is missing; run `cinema db migrate`")
    return int(row["id"])


async def create_account(
    email: str,
    password: str,
    group: GroupName = GroupName.USER,
    *,
    active: bool = False,
    send_activation: bool = True,
) -> int:
    """Validate, hash and insert a user with an empty profile; returns the new id.

    With `send_activation` (and `active` False) an activation token is stored
    and its email enqueued after commit. Raises `WeakPassword` (422
    `weak_password`) and `EmailTaken` (409 `email_taken`, case-insensitive).
    """
    passwords.validate(password)
    email = User.normalize_email(email)
    if await User.exists().where(User.email == email).run():
        raise EmailTaken()
    # Hash before the transaction: bcrypt is slow on purpose and must not hold the write lock.
    hashed = await passwords.hash_password(password)
    settings = get_settings()
    try:
        async with transaction() as hooks:
            if await User.exists().where(User.email == email).run():
                raise EmailTaken()
            user = await User.create_hashed(
                email,
                hashed,
                await group_id(group),
                active=active,
                admin=group.admin_flag,
                superuser=group.superuser_flag,
            )
            user_id = int(user.id)
            await UserProfile(user=user_id).save()
            if send_activation and not active:
                ttl = settings.activation_token_ttl_hours
                secret = await onetime.issue(ActivationToken, user_id, timedelta(hours=ttl))
                hooks.add(enqueue_email("activation", email, token=secret, ttl_hours=ttl))
    except Exception as exc:
        # Two sign-ups racing for one email on PostgreSQL: the unique index decides.
        if is_unique_violation(exc):
            raise EmailTaken() from exc
        raise
    return user_id


async def register(email: str, password: str) -> UserOut:
    """Sign up: an inactive USER, its profile, and an activation email.

    Raises `WeakPassword` (422 `weak_password`) and `EmailTaken` (409 `email_taken`).
    """
    return await user_out(await create_account(email, password))


async def activate(email: str, token: str) -> UserOut:
    """Activate the account with its emailed token (single use).

    Raises `InvalidToken` (400 `invalid_token`) when the token is unknown,
    belongs to another email, expired, or was used.
    """
    async with transaction():
        user_id = await onetime.consume(ActivationToken, email, token)
        activated = (
            await User.update({User.active: True})
            .where((User.id == user_id) & User.deactivated_at.is_null())
            .returning(User.id)
            .run()
        )
        if not activated:  # deactivated by staff: only staff may activate it again
            raise InvalidToken()
    return await user_out(user_id)


async def resend_activation(email: str, client_ip: str | None = None) -> None:
    """Send a fresh activation email (replacing the old token) if the account exists and is inactive.

    Does nothing otherwise, and says nothing either way (no account
    enumeration). Accounts deactivated by staff get nothing: only staff may
    activate them again. Both paths take at least `no_sooner_than`'s floor,
    so the timing does not tell either. Throttled per address and per client
    (`mailthrottle`): over the limit, nothing is sent either, and that does not show.
    """
    email = User.normalize_email(email)
    ttl = get_settings().activation_token_ttl_hours
    async with no_sooner_than(), transaction() as hooks:
        if not await mailthrottle.admit("activation", email, client_ip):
            return
        row = (
            await User.select(User.id)
            .where((User.email == email) & User.active.eq(False) & User.deactivated_at.is_null())
            .first()
            .run()
        )
        if row is None:
            return
        secret = await onetime.issue(ActivationToken, int(row["id"]), timedelta(hours=ttl))
        hooks.add(enqueue_email("activation", email, token=secret, ttl_hours=ttl))
