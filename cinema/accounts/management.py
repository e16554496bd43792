"""Staff operations on accounts: list, show, create, change group, (de)activate,
set password, set email, delete.

Used by the ADMIN endpoints of the API, by `cinema users` / `cinema groups`
and by Piccolo Admin's user forms: every door calls these functions with its
`actor` (the signed-in staff member, or `actor.OPERATOR` for the CLI), and
each function checks that the actor is an ADMIN (`RoleRequired`, 403) before
anything else, so no door can answer differently.
`users.admin` and `users.superuser` (what Piccolo Admin checks) always follow
the group: `admin` for MODERATOR and ADMIN, `superuser` for ADMIN only. The
last active ADMIN cannot be demoted, deactivated or deleted (`LastAdmin`, 409),
so the system always keeps someone who can manage it. A group change, a
deactivation, a password set by staff and a deletion end every session of the
account, API tokens and admin cookies alike (`sessions.revoke_all_sessions`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from cinema.accounts import maintenance, onetime, passwords, ratelimit, sessions
from cinema.accounts.actor import CurrentUser, GroupName, require_group
from cinema.accounts.errors import EmailTaken, LastAdmin, UserHasOrders, UserNotFound
from cinema.accounts.queries import UserRef, resolve, user_out, users_out
from cinema.accounts.registration import create_account, group_id
from cinema.accounts.schemas import GroupOut, PurgeOut, UserOut, valid_email
from cinema.accounts.tables import ActivationToken, PasswordResetToken, User, UserGroup
from cinema.clock import utcnow
from cinema.db import is_foreign_key_violation, is_unique_violation, lock_clause, transaction
from cinema.jobs import enqueue_email
from cinema.pagination import Page, PageParams
from cinema.sql import like_pattern


def _require_admin(actor: CurrentUser) -> None:
    """Managing accounts is the ADMIN's: 403 `RoleRequired` for anyone else."""
    require_group(actor, GroupName.ADMIN)


async def list_users(
    actor: CurrentUser,
    params: PageParams,
    *,
    email: str | None = None,
    group: GroupName | None = None,
    is_active: bool | None = None,
) -> Page[UserOut]:
    """A page of users by id. `email` matches any part of the address, in any case.

    `%` and `_` in `email` are literal characters, not LIKE wildcards (a search
    for `_` must not list every user).
    """
    _require_admin(actor)
    clauses: list[Any] = []
    if email:
        clauses.append(WhereRaw("users.email LIKE {} ESCAPE '\\'", like_pattern(User.normalize_email(email))))
    if group is not None:
        clauses.append(User.group.name == group.value)
    if is_active is not None:
        clauses.append(User.active.eq(is_active))
    where = None
    for clause in clauses:
        where = clause if where is None else where & clause
    count = User.count()
    if where is not None:
        count = count.where(where)
    total = await count.run()
    items = await users_out(where, limit=params.per_page, offset=params.offset)
    return Page[UserOut].build(items, params, total)


async def get_user(actor: CurrentUser, ref: UserRef) -> UserOut:
    """One user (by id or email) with profile. Raises `UserNotFound` (404)."""
    _require_admin(actor)
    return await user_out(await resolve(ref))


async def _guard_last_admin(user_id: int) -> None:
    """Raise `LastAdmin` (409 `last_admin`) when `user_id` is the only active ADMIN.

    Call inside the transaction that demotes, deactivates or deletes the user.
    Two ADMINs removing each other at once must not both see "one other ADMIN
    left": on PostgreSQL the ADMIN rows are locked (`FOR UPDATE`) before
    counting, so the second waits for the first to commit and then counts
    again; SQLite's `BEGIN IMMEDIATE` serialises the transactions already.
    """
    await User.raw(
        "SELECT u.id FROM users u JOIN user_groups g ON g.id = u.group_id "  # noqa: S608 - fixed text
        "WHERE g.name = {} ORDER BY u.id" + lock_clause(of="u"),
        GroupName.ADMIN.value,
    ).run()
    row = (
        await User.select(User.active.as_alias("active"), User.group.name.as_alias("group_name"))
        .where(User.id == user_id)
        .first()
        .run()
    )
    if row is None or row["group_name"] != GroupName.ADMIN.value or not row["active"]:
        return
    others = (
        await User.count()
        .where((User.group.name == GroupName.ADMIN.value) & User.active.eq(True) & (User.id != user_id))
        .run()
    )
    if others == 0:
        raise LastAdmin()


async def set_group(actor: CurrentUser, ref: UserRef, group: GroupName) -> UserOut:
    """Move a user to `group`, keeping Piccolo Admin's `admin`/`superuser` flags in step.

    A real change ends every session of the user (their tokens and admin
    cookie carry the rights of the old role); naming the current group ends
    nothing. Raises `RoleRequired` (403), `UserNotFound` (404) and `LastAdmin` (409).
    """
    _require_admin(actor)
    async with transaction():
        user_id = await resolve(ref)
        if group is not GroupName.ADMIN:
            await _guard_last_admin(user_id)
        new_group = await group_id(group)
        before = await User.select(User.group.as_alias("group_id")).where(User.id == user_id).first().run()
        await (
            User.update(
                {User.group: new_group, User.admin: group.admin_flag, User.superuser: group.superuser_flag}
            )
            .where(User.id == user_id)
            .run()
        )
        if before is not None and int(before["group_id"]) != new_group:
            await sessions.revoke_all_sessions(user_id)
    return await user_out(user_id)


async def set_active(actor: CurrentUser, ref: UserRef, active: bool) -> UserOut:
    """Activate or deactivate an account by hand.

    Deactivation ends every session at once (API tokens and admin cookies)
    and blocks self-service re-activation (resend/activate) until staff
    activate the account again; activating it later revives none of those
    sessions. Either way a pending activation token is dropped. Raises
    `RoleRequired` (403), `UserNotFound` (404) and `LastAdmin` (409).
    """
    _require_admin(actor)
    async with transaction():
        user_id = await resolve(ref)
        if not active:
            await _guard_last_admin(user_id)
        await (
            User.update({User.active: active, User.deactivated_at: None if active else utcnow()})
            .where(User.id == user_id)
            .run()
        )
        # Either way a pending activation link is void: activated already, or
        # deactivated by staff (who alone may undo it).
        await onetime.discard(ActivationToken, user_id)
        if not active:
            await sessions.revoke_all_sessions(user_id)
    return await user_out(user_id)


async def create_user(
    actor: CurrentUser, email: str, password: str, group: GroupName = GroupName.USER, *, active: bool
) -> UserOut:
    """Create an account directly (operators, scripts, the admin UI): no activation email.

    Raises `RoleRequired` (403), `InvalidEmail` / `WeakPassword` (422) and `EmailTaken` (409).
    """
    _require_admin(actor)
    user_id = await create_account(valid_email(email), password, group, active=active, send_activation=False)
    return await user_out(user_id)


#: Called with the user's id inside the deleting transaction, just before the row goes.
BeforeDelete = Callable[[int], Awaitable[None]]


async def delete_user(
    actor: CurrentUser, ref: UserRef, *, before_delete: BeforeDelete | None = None
) -> UserOut:
    """Delete an account with its profile, tokens, cart and interactions; returns what was deleted.

    Doors call `cinema.interactions.erasure.delete_user`, which passes
    `before_delete` to note what the user's interactions counted (movie
    counters live in a layer above accounts) and recounts it in this
    transaction.

    Orders, payments and purchases are financial records: the database refuses
    to delete their user, which is reported as `UserHasOrders` (409), suggesting
    deactivation. Also `RoleRequired` (403), `UserNotFound` (404), `LastAdmin` (409).
    """
    _require_admin(actor)
    try:
        async with transaction():
            user_id = await resolve(ref)
            deleted = await user_out(user_id)
            await _guard_last_admin(user_id)
            if before_delete is not None:
                await before_delete(user_id)
            # The rows would cascade with the user anyway; ending them here keeps
            # one mechanism for every way sessions end.
            await sessions.revoke_all_sessions(user_id)
            await User.delete().where(User.id == user_id).run()
    except Exception as exc:
        if is_foreign_key_violation(exc):
            raise UserHasOrders() from exc
        raise
    return deleted


async def set_password(actor: CurrentUser, ref: UserRef, password: str) -> UserOut:
    """Give a user a new password (staff, or piccolo_api's change-password form); all their sessions end.

    The password follows the same rules as everywhere (`passwords.validate`),
    is hashed before the transaction (bcrypt must not hold the write lock),
    and the owner gets the "password changed" email, so a takeover by staff
    credentials does not go unnoticed. A pending reset link is dropped (it
    would undo the new password) and the failed-login lockout is cleared, as
    a reset does. Raises `RoleRequired` (403), `WeakPassword` (422) and `UserNotFound` (404).
    """
    _require_admin(actor)
    passwords.validate(password)
    user_id = await resolve(ref)
    hashed = await passwords.hash_password(password)
    async with transaction() as hooks:
        updated = (
            await User.update({User.password: hashed}).where(User.id == user_id).returning(User.email).run()
        )
        if not updated:  # deleted while the hash was computed
            raise UserNotFound()
        email = str(updated[0]["email"])
        await onetime.discard(PasswordResetToken, user_id)
        await sessions.revoke_all_sessions(user_id)
        hooks.add(enqueue_email("password_changed", email))
    await ratelimit.clear(email)
    return await user_out(user_id)


async def set_email(actor: CurrentUser, ref: UserRef, email: str) -> UserOut:
    """Change a user's email (their sign-in name), validated as at sign-up and stored lower-cased.

    Pending activation and reset links were mailed to the old address and
    would name the new one: they are dropped (the owner asks for new ones).
    Sessions stay: the account and its rights are the same. Raises
    `RoleRequired` (403), `InvalidEmail` (422), `EmailTaken` (409) and `UserNotFound` (404).
    """
    _require_admin(actor)
    email = User.normalize_email(valid_email(email))
    try:
        async with transaction():
            user_id = await resolve(ref)
            if await User.exists().where((User.email == email) & (User.id != user_id)).run():
                raise EmailTaken()
            await User.update({User.email: email, User.username: email}).where(User.id == user_id).run()
            await onetime.discard(ActivationToken, user_id)
            await onetime.discard(PasswordResetToken, user_id)
    except Exception as exc:
        # Two changes racing for one email on PostgreSQL: the unique index decides.
        if is_unique_violation(exc):
            raise EmailTaken() from exc
        raise
    return await user_out(user_id)


async def list_groups() -> list[GroupOut]:
    """Every group, lowest role first, with how many users it has."""
    groups = await UserGroup.select(UserGroup.id, UserGroup.name).order_by(UserGroup.id).run()
    counts = {
        int(row["group_id"]): int(row["users"])
        for row in await User.select(User.group.as_alias("group_id"), Count(alias="users"))
        .group_by(User.group)
        .run()
    }
    return [
        GroupOut(id=int(g["id"]), name=GroupName(g["name"]), users=counts.get(int(g["id"]), 0))
        for g in groups
    ]


async def purge_tokens() -> PurgeOut:
    """Delete expired activation, reset and refresh tokens and old login failures now; returns counts."""
    return PurgeOut(**await maintenance.purge_expired())
