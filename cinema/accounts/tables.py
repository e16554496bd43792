"""Accounts tables: groups, users (shared with Piccolo Admin), profiles, tokens.

`User` subclasses Piccolo's `BaseUser` so Piccolo Admin signs staff in against
the same table and the same password hash (docs/architecture.md, "One account
store"). Attribute names follow BaseUser (`password`, `active`); the columns
keep the spec's names (`hashed_password`, `is_active`) via `db_column_name`.
`username` mirrors the normalised email (BaseUser requires it; admin shows it).
`admin`/`superuser` follow the group: set by `accounts.service` whenever the
group changes, never edited on their own.
"""

from __future__ import annotations

import enum
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.readable import Readable
from piccolo.table import Table
from piccolo_api.session_auth.tables import SessionsBase

from cinema.accounts import passwords
from cinema.accounts.actor import GroupName


class Gender(enum.StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"


class UserGroup(Table, tablename="user_groups"):
    """USER, MODERATOR, ADMIN: seeded by migration."""

    id: Serial

    name = Varchar(length=20, unique=True, choices=GroupName)

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.name])


class User(BaseUser, tablename="users"):
    """A person's account. Create through `User.create(...)` so the password is hashed."""

    id: Serial

    username = Varchar(length=255, unique=True, help_text="Mirrors the email.")
    email = Varchar(length=255, unique=True, index=True)
    password = Varchar(length=255, secret=True, db_column_name="hashed_password")
    active = Boolean(default=False, db_column_name="is_active")
    group = ForeignKey(UserGroup, db_column_name="group_id", null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)
    #: Set when staff deactivate the account, cleared when they activate it: a
    #: deactivated account cannot re-activate itself with an activation email.
    deactivated_at = Timestamptz(null=True, default=None)

    # BaseUser hashes in __init__/__setattr__ with its own PBKDF2 format; ours
    # is bcrypt through passlib, hashed explicitly (off the event loop).
    def __init__(self, **kwargs: Any) -> None:
        super(BaseUser, self).__init__(**kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        super(BaseUser, self).__setattr__(name, value)

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.email])

    @staticmethod
    def normalize_email(email: str) -> str:
        """Emails are one account whatever their case: stored and matched lower-cased."""
        return email.strip().lower()

    @classmethod
    async def create(
        cls,
        email: str,
        password: str,
        group_id: int,
        *,
        active: bool = False,
        admin: bool = False,
        superuser: bool = False,
    ) -> User:
        """Insert a user with a bcrypt hash of `password` (hashed in a thread).

        The caller validates the password rules first (`passwords.validate`).
        Raises the database's unique-violation if the email exists.
        """
        return await cls.create_hashed(
            email,
            await passwords.hash_password(password),
            group_id,
            active=active,
            admin=admin,
            superuser=superuser,
        )

    @classmethod
    async def create_hashed(
        cls,
        email: str,
        password_hash: str,
        group_id: int,
        *,
        active: bool = False,
        admin: bool = False,
        superuser: bool = False,
    ) -> User:
        """Insert a user whose password was already hashed (`passwords.hash_password`).

        For services that hash before opening their transaction, so the
        (deliberately slow) bcrypt work never holds a database write lock.
        Raises the database's unique-violation if the email exists.
        """
        email = cls.normalize_email(email)
        user = cls(
            email=email,
            username=email,
            password=password_hash,
            active=active,
            group=group_id,
            admin=admin,
            superuser=superuser,
        )
        await user.save()
        return user

    async def check_password(self, password: str) -> bool:
        """True when `password` matches the stored hash (verified in a thread)."""
        return await passwords.verify_password(password, self.password)

    # Piccolo Admin and piccolo_api call these classmethods.
    @classmethod
    def hash_password(cls, password: str, salt: str = "", iterations: int | None = None) -> str:
        return passwords.hash_password_sync(password)

    @classmethod
    async def update_password(cls, user: str | int, password: str) -> None:
        """Piccolo's own tools (`piccolo user change_password`) land here: the accounts
        service sets it, so the rules, the email and the end of every session apply.

        Whoever runs those tools has the deployment's shell, so they act as the
        operator (cinema/accounts/actor.py); the admin's change-password page goes
        through `recovery.change_password` instead (cinema/admin/router.py).
        """
        from cinema.accounts.actor import OPERATOR
        from cinema.accounts.management import set_password

        await set_password(OPERATOR, user, password)

    @classmethod
    async def login(cls, username: str, password: str) -> int | None:
        """Piccolo Admin sign-in by email. Only active MODERATOR/ADMIN accounts.

        Goes through the API's sign-in limits (`auth.check_credentials`), so a
        password guessed here counts against the same account lock. piccolo_api
        does not pass the client address, so only the per-account limit applies.
        Returns the user id, or None (the admin shows a generic failure).
        """
        from cinema.accounts.auth import check_credentials
        from cinema.errors import CinemaError

        if len(password.encode()) > passwords.MAX_BYTES or len(username) > 255:
            return None
        try:
            credentials = await check_credentials(username, password, None)
        except CinemaError:  # wrong password (401) or locked (429)
            return None
        if not credentials.active:
            return None
        row = (
            await cls.select(cls.group.name.as_alias("group_name"))
            .where(cls.id == credentials.user_id)
            .first()
            .run()
        )
        staff = row is not None and row["group_name"] in (GroupName.MODERATOR.value, GroupName.ADMIN.value)
        return credentials.user_id if staff else None


class UserProfile(Table, tablename="user_profiles"):
    """One per user, deleted with it.

    `display_name` is the only field shown to others (as a comment's author);
    the rest is private to the user and staff (docs/privacy.md).
    """

    id: Serial

    user = ForeignKey(User, unique=True, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    #: Migration 0008; validated by `schemas.DisplayName`.
    display_name = Varchar(length=50, null=True, default=None)
    # `default=None`: Piccolo's defaults would otherwise be "" and *today* for the date.
    first_name = Varchar(length=100, null=True, default=None)
    last_name = Varchar(length=100, null=True, default=None)
    avatar = Varchar(length=500, null=True, default=None, help_text="Storage key of the avatar image.")
    gender = Varchar(length=10, null=True, default=None, choices=Gender)
    date_of_birth = Date(null=True, default=None)
    info = Text(null=True, default=None)


class ActivationToken(Table, tablename="activation_tokens"):
    """One per user; `token` stores the SHA-256 of the emailed secret."""

    id: Serial

    user = ForeignKey(User, unique=True, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    token = Varchar(length=64, unique=True)
    expires_at = Timestamptz(index=True)


class PasswordResetToken(Table, tablename="password_reset_tokens"):
    """One per user; `token` stores the SHA-256 of the emailed secret."""

    id: Serial

    user = ForeignKey(User, unique=True, null=False, on_delete=OnDelete.cascade, db_column_name="user_id")
    token = Varchar(length=64, unique=True)
    expires_at = Timestamptz(index=True)


class RefreshToken(Table, tablename="refresh_tokens"):
    """One row per login session; many per user.

    `session_key` names the session (`sid` claim of both tokens): a random
    value, never reused, unlike `id`, which SQLite hands out again after a
    delete (docs/sessions.md). `token` is the SHA-256 of the current refresh
    token's `jti`: rotation replaces it, and a presented token whose jti no
    longer matches is a reuse, which deletes the row and so ends the
    session's access tokens too. Both are `secret` (Piccolo leaves them out
    of admin answers): with the signing key, a session key is half a token.
    """

    id: Serial

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="user_id")
    #: Unique index `refresh_tokens_session_key` (migration 0007).
    session_key = Varchar(length=64, unique=True, secret=True)
    token = Varchar(length=64, unique=True, secret=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)


class AdminSession(SessionsBase, tablename="admin_sessions"):
    """A Piccolo Admin browser session (cookie `id`), created by piccolo_api at sign-in.

    An account's sessions, like its API sessions, end through
    `sessions.revoke_all_sessions`. `user_id` is a foreign key that deletes
    the rows with their user (migration 0007): piccolo_api looks the signed-in
    person up by this id, and SQLite reuses a deleted user's id, so a
    surviving row would sign its cookie in as the next account created.
    """

    id: Serial

    # piccolo_api's SessionsBase declares a plain Integer; same column, now with the cascade.
    user_id = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True, db_column_name="user_id")


class LoginFailure(Table, tablename="login_failures"):
    """Failed sign-ins, counted per account and per client address for 429s.

    In the database (not process memory) so every API replica sees the same
    counts; rows older than the window are purged by the cleanup task.
    """

    id: Serial

    email = Varchar(length=255, index=True)
    client_ip = Varchar(length=64, index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class MailRequest(Table, tablename="mail_requests"):
    """Anonymous requests that may send an email (password reset, activation resend), for throttling.

    One row per request that was let through, by target address and client
    address (see `cinema.accounts.mailthrottle`). In the database so every API
    replica counts the same; rows older than the window are purged by the cleanup task.
    """

    id: Serial

    kind = Varchar(length=32)
    email = Varchar(length=255, index=True)
    client_ip = Varchar(length=64, index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
