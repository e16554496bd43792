"""The caller's own account and profile (`/accounts/me`, `/accounts/me/profile`)."""

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


async def update_profile(user_id: int, changes: ProfileUpdate) -> ProfileOut:
    """Apply the fields present in `changes` (an explicit null clears one); returns the profile.

    Creates the profile row when the user has none (accounts made before profiles, or by tools).
    Validation (gender MALE/FEMALE, no birth date in the future, lengths) is in `ProfileUpdate`.
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
