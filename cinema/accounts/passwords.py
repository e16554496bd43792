"""Password rules and hashing (bcrypt through passlib/libpass).

Rules (API.md): 8 to 64 characters, at most 72 bytes in UTF-8 (bcrypt's
limit), with a lower-case letter, an upper-case letter, a digit and a symbol.
Hashing and verifying run in a worker thread so a burst of logins does not
stall the event loop.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from passlib.context import CryptContext

from cinema.config import get_settings
from cinema.errors import ValidationFailed

MIN_CHARS = 8
MAX_CHARS = 64
MAX_BYTES = 72


def problems(password: str) -> list[str]:
    """The rules `password` breaks, as sentences; empty when it is acceptable."""
    found = []
    if not MIN_CHARS <= len(password) <= MAX_CHARS:
        found.append(f"must be {MIN_CHARS} to {MAX_CHARS} characters long")
    if len(password.encode("utf-8")) > MAX_BYTES:
        found.append(f"must be at most {MAX_BYTES} bytes in UTF-8")
    if not any(c.islower() for c in password):
        found.append("needs a lower-case letter")
    if not any(c.isupper() for c in password):
        found.append("needs an upper-case letter")
    if not any(c.isdigit() for c in password):
        found.append("needs a digit")
    if all(c.isalnum() or c.isspace() for c in password):
        found.append("needs a symbol")
    return found


def validate(password: str) -> None:
    """Raise `ValidationFailed` (422, code `weak_password`) naming every broken rule."""
    broken = problems(password)
    if broken:
        raise ValidationFailed("The password " + "; ".join(broken) + ".", code="weak_password")


@lru_cache
def _context(rounds: int) -> CryptContext:
    return CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)


def _ctx() -> CryptContext:
    return _context(get_settings().password_hash_rounds)


def hash_password_sync(password: str) -> str:
    return str(_ctx().hash(password))


async def hash_password(password: str) -> str:
    """bcrypt hash of `password`, computed off the event loop."""
    return await asyncio.to_thread(hash_password_sync, password)


@lru_cache
def _dummy_hash(rounds: int) -> str:
    return str(_context(rounds).hash("timing-equaliser-not-a-password"))


async def dummy_verify(password: str) -> bool:
    """Spend the time of a real `verify_password` and return False.

    Used when the email is unknown, so a failed sign-in takes about as long
    whether or not the account exists (no enumeration by timing).
    """
    hashed = await asyncio.to_thread(_dummy_hash, get_settings().password_hash_rounds)
    await verify_password(password, hashed)
    return False


async def verify_password(password: str, hashed: str) -> bool:
    """True when `password` matches `hashed`; False for any malformed input."""
    if len(password.encode("utf-8")) > MAX_BYTES:
        return False

    def check() -> bool:
        try:
            return bool(_ctx().verify(password, hashed))
        except (ValueError, TypeError):
            return False

    return await asyncio.to_thread(check)
