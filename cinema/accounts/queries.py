"""Read models of accounts: users with their group and profile, as the API shows them."""

from __future__ import annotations

from typing import Any

from cinema.accounts.actor import GroupName
from cinema.accounts.errors import UserNotFound
from cinema.accounts.schemas import ProfileOut, UserOut, account_email
from cinema.accounts.tables import User, UserProfile
from cinema.ids import INTEGER, id_problem, is_id

#: A user named by id (int) or by email (str, any case); text of digits counts as an id.
UserRef = int | str


def parse_user_ref(value: str | int) -> UserRef:
    """A user reference as typed (CLI arguments, admin forms): an id, or an account email.

    Digits (a sign allowed, so `-1` is an out-of-range id rather than an
    email) give an int checked against 1..MAX_ID; anything else must be an
    account email, checked and lower-cased as `POST /accounts/register` does.
    Raises ValueError with the sentence to show.
    """
    text = str(value).strip()
    if INTEGER.fullmatch(text):
        problem = id_problem(text)
        if problem:
            raise ValueError(problem)
        return int(text)
    return account_email(text)


_PROFILE_FIELDS = ("display_name", "first_name", "last_name", "gender", "date_of_birth", "info")


async def avatar_url(key: str | None) -> str | None:
    """The URL a client loads the avatar stored under `key` from (presigned on S3); None without one.

    Delegates to the avatar rules (`cinema.accounts.avatars.avatar_url`), which own where files live.
    """
    from cinema.accounts import avatars

    return await avatars.avatar_url(key)


async def profile_out(row: dict[str, Any] | None) -> ProfileOut:
    """A `ProfileOut` from a `user_profiles` row (or an empty profile when the user has none)."""
    if row is None:
        return ProfileOut()
    return ProfileOut(
        **{field: row.get(field) or None for field in _PROFILE_FIELDS},
        avatar_url=await avatar_url(row.get("avatar")),
    )


def _user_columns() -> list[Any]:
    return [
        User.id,
        User.email,
        User.active.as_alias("is_active"),
        User.group.name.as_alias("group_name"),
        User.created_at,
    ]


async def profile_rows(user_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Profile rows of these users, by user id (users without a row are absent)."""
    if not user_ids:
        return {}
    rows = (
        await UserProfile.select(
            UserProfile.user.as_alias("user_id"),
            UserProfile.display_name,
            UserProfile.first_name,
            UserProfile.last_name,
            UserProfile.gender,
            UserProfile.date_of_birth,
            UserProfile.info,
            UserProfile.avatar,
        )
        .where(UserProfile.user.is_in(user_ids))
        .run()
    )
    return {int(row["user_id"]): row for row in rows}


async def users_out(where: Any = None, *, limit: int | None = None, offset: int = 0) -> list[UserOut]:
    """Users matching a Piccolo `where` clause, ordered by id, with profiles."""
    query = User.select(*_user_columns()).order_by(User.id)
    if where is not None:
        query = query.where(where)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    rows = await query.run()
    profiles = await profile_rows([int(r["id"]) for r in rows])
    return [
        UserOut(
            id=int(row["id"]),
            email=row["email"],
            group=GroupName(row["group_name"]),
            is_active=bool(row["is_active"]),
            created_at=row["created_at"],
            profile=await profile_out(profiles.get(int(row["id"]))),
        )
        for row in rows
    ]


async def user_out(user_id: int) -> UserOut:
    """One user with profile. Raises `UserNotFound` (404 `user_not_found`)."""
    found = await users_out(User.id == user_id) if is_id(user_id) else []
    if not found:
        raise UserNotFound()
    return found[0]


async def resolve(ref: UserRef) -> int:
    """The id of the user named by id or email (text of digits is an id).

    Raises `UserNotFound` (404 `user_not_found`), also for an id outside
    1..MAX_ID, which names nobody (and must not reach the database).
    """
    text = ref.strip() if isinstance(ref, str) else ""
    user_id = ref if isinstance(ref, int) else int(text) if text.isdigit() else None
    if user_id is not None:
        row = await User.select(User.id).where(User.id == user_id).first().run() if is_id(user_id) else None
    else:
        row = await User.select(User.id).where(User.email == User.normalize_email(text)).first().run()
    if row is None:
        raise UserNotFound()
    return int(row["id"])
