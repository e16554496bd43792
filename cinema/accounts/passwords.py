"""Password rules and hashing (bcrypt through passlib/libpass).

Rules (docs/api.md, "Accounts"): 8 to 64 characters, at most 72 bytes in UTF-8 (bcrypt's
limit), with a lower-case letter, an upper-case letter, a digit and a symbol.
Hashing and verifying run in worker threads of a dedicated pool of
`cpu_count - 1` threads (at least one) running at a lower CPU priority, so a
burst of logins neither stalls the event loop nor takes every core from the
requests being served.
"""

from __future__ import annotations

import asyncio
import os
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import TypeVar

from passlib.context import CryptContext

from cinema.accounts.errors import WeakPassword
from cinema.config import get_settings

MIN_CHARS = 8
MAX_CHARS = 64
MAX_BYTES = 72

_T = TypeVar("_T")
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()

#: How much nicer (lower CPU priority) the hashing threads run than the event loop: the
#: most there is (the kernel caps nice at 19). The benchmark (tests/perf), 100k movies, first page during a
#: burst of 20 logins: p99 1.41-2.05x the p99 alone at +10, 1.48-1.53x at +19.
HASHING_NICENESS = 19


def _lower_priority() -> None:
    """Initializer of a hashing thread: raise its nice value (Linux schedules threads by TID).

    Under load the kernel then gives the event loop and PostgreSQL the CPU first
    and bcrypt the rest; logins get slower during a burst, catalog reads do not.
    Where per-thread priorities are not supported this does nothing.
    """
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + HASHING_NICENESS)
    except (AttributeError, OSError):  # pragma: no cover - not Linux, or not permitted
        pass


def _hashing_executor() -> ThreadPoolExecutor:
    """The threads bcrypt runs on: one fewer than the CPUs (at least one), created on first use.

    `asyncio.to_thread` would use the loop's default pool (min(32, cpus + 4)
    threads): 20 concurrent logins then kept every core busy hashing and the
    catalog's p99 rose 5x during a burst (tests/perf). With a core left free, the
    event loop keeps serving; logins queue for a hashing thread instead. The
    threads also run at a lower priority (`_lower_priority`).
    """
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                workers = max(1, (os.cpu_count() or 2) - 1)
                _executor = ThreadPoolExecutor(
                    max_workers=workers, thread_name_prefix="bcrypt", initializer=_lower_priority
                )
    return _executor


async def _off_loop(func: Callable[..., _T], *args: object) -> _T:
    """Run `func(*args)` on the hashing threads and await its result."""
    return await asyncio.get_running_loop().run_in_executor(_hashing_executor(), func, *args)


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
    if any(unicodedata.category(c) == "Cc" for c in password):
        # NUL cannot be hashed by bcrypt, and no control character can be typed in a form.
        found.append("must not contain control characters")
    return found


def validate(password: str) -> None:
    """Raise `WeakPassword` (422 `weak_password`), its `problems` naming every broken rule."""
    broken = problems(password)
    if broken:
        raise WeakPassword(problems=broken)


@lru_cache
def _context(rounds: int) -> CryptContext:
    return CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)


def _ctx() -> CryptContext:
    return _context(get_settings().password_hash_rounds)


def hash_password_sync(password: str) -> str:
    return str(_ctx().hash(password))


async def hash_password(password: str) -> str:
    """bcrypt hash of `password`, computed off the event loop."""
    return await _off_loop(hash_password_sync, password)


@lru_cache
def _dummy_hash(rounds: int) -> str:
    return str(_context(rounds).hash("timing-equaliser-not-a-password"))


async def dummy_verify(password: str) -> bool:
    """Spend the time of a real `verify_password` and return False.

    Used when the email is unknown, so a failed sign-in takes about as long
    whether or not the account exists (no enumeration by timing).
    """
    hashed = await _off_loop(_dummy_hash, get_settings().password_hash_rounds)
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

    return await _off_loop(check)
