"""The caller's own account and profile (`/accounts/me`, `/accounts/me/profile`), and public names.

A profile is private except its `display_name`: what others see of a user
(e.g. as a comment's author) is that name, or a neutral handle when they chose
none. Neither is ever derived from the email address or the real name
(docs/privacy.md).
"""

from __future__ import annotations

from typing import Any

from cinema.accounts.queries import profile_out, profile_rows, user_out
from cinema.accounts.schemas import ProfileOut, ProfileUpdate, UserOut
from cinema.accounts.tables import UserProfile
from cinema.db import transaction


async def get_me(user_id: int) -> UserOut:
    """The caller's account with profile. Raises `NotFound` if the user vanished meanwhile."""
    return await user_out(user_id)


async def get_profile(user_id: int) -> ProfileOut:
    """The user's profile (all fields null when never filled in)."""
    return await profile_out((await profile_rows([user_id])).get(user_id))


def neutral_handle(user_id: int) -> str:
    """The public name of a user without a display name: "Member <id>".

    The id is public already (a comment's `author_id`), so the handle reveals
    nothing more; choosing a display name of this shape is refused.
    """
    return f"Member {int(user_id)}"


async def public_names(user_ids: set[int]) -> dict[int, str]:
    """What others see as each user's name: their display name, else `neutral_handle` (one query)."""
    if not user_ids:
        return {}
    rows = (
        await UserProfile.select(UserProfile.user.as_alias("user_id"), UserProfile.display_name)
        .where(UserProfile.user.is_in(sorted(user_ids)) & UserProfile.display_name.is_not_null())
        .run()
    )
    chosen = {int(row["user_id"]): str(row["display_name"]) for row in rows if row["display_name"]}
    return {user_id: chosen.get(user_id) or neutral_handle(user_id) for user_id in user_ids}


async def update_profile(user_id: int, changes: ProfileUpdate) -> ProfileOut:
    """Apply the fields present in `changes` (an explicit null clears one); returns the profile.

    Creates the profile row when the user has none (accounts made before profiles, or by tools).
    Validation (gender MALE/FEMALE, no birth date in the future, lengths, a
    display name without control characters) is in `ProfileUpdate`.
    """
    values: dict[Any, Any] = changes.model_dump(exclude_unset=True)
    if "gender" in values and values["gender"] is not None:
        values["gender"] = values["gender"].value
    async with transaction():
        exists = await UserProfile.exists().where(UserProfile.user == user_id).run()
        if not exists:
            await UserProfile(user=user_id, **values).save()
        elif values:
            await UserProfile.update(values).where(UserProfile.user == user_id).run()
    return await get_profile(user_id)
