"""Signed app URLs for local media (docs/media.md, "Playback URLs").

In local mode (no S3) the app itself serves videos and takes uploads, at
URLs that carry an expiry and an HMAC-SHA256 over what they grant: the
purpose (`get` or `put`), the storage key, the user it was issued to (0 for a
trailer), the expiry and, for an upload, the byte cap. Changing any of them
breaks the signature; nothing is served from a path alone. The key is
`MEDIA_URL_SECRET`, or one derived from `JWT_SECRET_KEY` (a separate
HMAC label, so a media signature can never pass as a token signature).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from datetime import datetime

from cinema.config import get_settings

_LABEL = b"cinema media url v1"


@functools.lru_cache(maxsize=4)
def _derived(secret: str) -> bytes:
    return hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()


def _key() -> bytes:
    settings = get_settings()
    return _derived(settings.media_url_secret or settings.jwt_secret_key)


def _message(purpose: str, key: str, user_id: int, expires: int, extra: str) -> bytes:
    return f"{purpose}\n{key}\n{user_id}\n{expires}\n{extra}".encode()


def sign(purpose: str, key: str, user_id: int, expires: int, extra: str = "") -> str:
    """The URL-safe signature of a grant (43 characters)."""
    digest = hmac.new(_key(), _message(purpose, key, user_id, expires, extra), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def valid(
    signature: str, purpose: str, key: str, user_id: int, expires: int, now: datetime, extra: str = ""
) -> bool:
    """True when `signature` matches the grant and `expires` (a Unix time) is still ahead of `now`."""
    if expires <= now.timestamp():
        return False
    expected = sign(purpose, key, user_id, expires, extra)
    return hmac.compare_digest(expected.encode(), signature.encode())
