"""Avatars: the accounts rule for a user's picture, on the shared object storage.

Rules (docs/api.md, `PUT /accounts/me/avatar`): JPEG, PNG or WebP recognised
from the bytes (magic numbers through `filetype`; the client's content type
and file name are ignored), at most `MAX_AVATAR_BYTES`; the object key is made
by the server under the user's own prefix, `avatars/<user_id>/<uuid4>.<ext>`.
`user_profiles.avatar` stores the key; `avatar_url(key)` turns it into a URL
(the profile uses it too).
"""

from __future__ import annotations

import logging
import uuid

import filetype  # type: ignore[import-untyped]

from cinema.accounts.errors import MAX_AVATAR_MB, AvatarNotAnImage, AvatarTooLarge
from cinema.accounts.queries import profile_out, profile_rows
from cinema.accounts.schemas import ProfileOut
from cinema.accounts.tables import UserProfile
from cinema.db import transaction
from cinema.errors import EmptyFile
from cinema.storage import AvatarStore, get_store

log = logging.getLogger("cinema.accounts.avatars")

MAX_AVATAR_BYTES = MAX_AVATAR_MB * 1024 * 1024
#: MIME type -> file extension of the accepted image types.
ALLOWED_IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def sniff_image(data: bytes) -> tuple[str, str]:
    """`(mime, extension)` of a JPEG, PNG or WebP recognised from its magic number.

    Raises `AvatarNotAnImage` (415) for anything else, whatever it claims to be.
    """
    kind = filetype.guess(data[:262]) if data else None
    if kind is None or kind.mime not in ALLOWED_IMAGE_TYPES:
        raise AvatarNotAnImage()
    return kind.mime, ALLOWED_IMAGE_TYPES[kind.mime]


def avatar_key(user_id: int, extension: str) -> str:
    """A fresh object key under the user's own prefix: `avatars/<user_id>/<uuid4 hex>.<ext>`."""
    return f"avatars/{int(user_id)}/{uuid.uuid4().hex}.{extension}"


async def avatar_url(key: str | None) -> str | None:
    """The URL for a stored avatar key (presigned for S3), or None when there is no avatar."""
    if not key:
        return None
    return await get_store().url(key)


async def _profile(user_id: int) -> ProfileOut:
    """The profile as `GET /accounts/me/profile` shows it (accounts' `ProfileOut`)."""
    return await profile_out((await profile_rows([user_id])).get(user_id))


async def _delete_quietly(store: AvatarStore, key: str) -> None:
    try:
        await store.delete(key)
    except Exception:
        # The row no longer points at it: an orphan object, not a user-facing failure.
        log.warning("could not delete avatar object %s", key, exc_info=True)


async def set_avatar(user_id: int, data: bytes) -> ProfileOut:
    """Store `data` as the user's avatar and return the profile with the new `avatar_url`.

    Raises `AvatarTooLarge` (413) over `MAX_AVATAR_BYTES`, `EmptyFile` (400) for
    an empty file, `AvatarNotAnImage` (415) unless JPEG/PNG/WebP. The
    previous avatar object is deleted once the profile points at the new one;
    if saving the profile fails, the new object is removed again.
    """
    if len(data) > MAX_AVATAR_BYTES:
        raise AvatarTooLarge()
    if not data:
        raise EmptyFile()
    mime, extension = sniff_image(data)
    store = get_store()
    key = avatar_key(user_id, extension)
    await store.put(key, data, mime)
    try:
        async with transaction():
            row = (
                await UserProfile.select(UserProfile.id, UserProfile.avatar)
                .where(UserProfile.user == user_id)
                .first()
                .run()
            )
            previous = row["avatar"] if row else None
            if row is None:
                await UserProfile.insert(UserProfile(user=user_id, avatar=key)).run()
            else:
                await UserProfile.update({UserProfile.avatar: key}).where(UserProfile.id == row["id"]).run()
    except BaseException:
        await _delete_quietly(store, key)
        raise
    if previous and previous != key and previous.startswith(f"avatars/{int(user_id)}/"):
        await _delete_quietly(store, previous)
    return await _profile(user_id)


async def remove_avatar(user_id: int) -> None:
    """Clear the user's avatar and delete its object (no error when there is none)."""
    async with transaction():
        row = (
            await UserProfile.select(UserProfile.id, UserProfile.avatar)
            .where(UserProfile.user == user_id)
            .first()
            .run()
        )
        if row is None or not row["avatar"]:
            return
        await UserProfile.update({UserProfile.avatar: None}).where(UserProfile.id == row["id"]).run()
    previous: str = row["avatar"]
    if previous.startswith(f"avatars/{int(user_id)}/"):
        await _delete_quietly(get_store(), previous)
