"""Recognise integrity errors of either engine (asyncpg on PostgreSQL, sqlite3 on SQLite).

asyncpg's exceptions are matched by class name, so this module needs neither
the driver's import nor its (missing) type stubs.
"""

from __future__ import annotations

import sqlite3


def _asyncpg_error(exc: BaseException, name: str) -> bool:
    return type(exc).__module__.startswith("asyncpg") and type(exc).__name__ == name


def is_unique_violation(exc: BaseException) -> bool:
    """True for a UNIQUE violation (asyncpg `UniqueViolationError`, sqlite3 "UNIQUE constraint failed")."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE constraint failed" in str(exc)
    return _asyncpg_error(exc, "UniqueViolationError")


def is_foreign_key_violation(exc: BaseException) -> bool:
    """True when a deleted row is still referenced (asyncpg `ForeignKeyViolationError`, sqlite3 "FOREIGN KEY constraint failed")."""
    if isinstance(exc, sqlite3.IntegrityError):
        return "FOREIGN KEY constraint failed" in str(exc)
    return _asyncpg_error(exc, "ForeignKeyViolationError")
