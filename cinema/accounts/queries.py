"""Read models of accounts: users with their group and profile, as the API shows them."""

from __future__ import annotations

from typing import Any

from cinema.accounts.actor import GroupName
from cinema.accounts.schemas import ProfileOut, UserOut
from cinema.accounts.tables import User, UserProfile
from cinema.errors import NotFound

#: A user named by id (int) or by email (str, any case), as the CLI accepts it.
UserRef = int | str

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
    """One user with profile. Raises `NotFound` (404)."""
    found = await users_out(User.id == user_id)
    if not found:
        raise NotFound("No user with this id.")
    return found[0]


async def resolve(ref: UserRef) -> int:
    """The id of the user named by id or email. Raises `NotFound` (404)."""
    clause = User.id == ref if isinstance(ref, int) else User.email == User.normalize_email(ref)
    row = await User.select(User.id).where(clause).first().run()
    if row is None:
        raise NotFound(f"No user {ref!r}.")
    return int(row["id"])
