"""One mapping from domain errors (and framework errors) to JSON responses.

Body shape: `{"detail": "<sentence>", "code": "<snake_case>"}` (docs/api.md,
"Conventions"; every code is in docs/errors.md). 422s keep
FastAPI's shape, but submitted values of secret fields are never echoed, and
echoed inputs are cut short (`ECHO_MAX_CHARS` characters per string,
`ECHO_MAX_ITEMS` items per list or object, `ECHO_MAX_DEPTH` levels; at most
`MAX_ERRORS` errors): a 1 MB body is not sent back.

A database that cannot be reached (PostgreSQL stopped or unreachable, the
SQLite file unopenable) is a 503 `database_unavailable` with `Retry-After`,
not a 500: the asyncpg pool opens fresh connections on the next request, so
the service recovers by itself once the database is back.
"""

from __future__ import annotations

import logging
import sqlite3
from types import TracebackType
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from cinema.db import is_foreign_key_violation, is_unique_violation
from cinema.errors import (
    CinemaError,
    ConcurrentChange,
    DatabaseBusy,
    DatabaseUnavailable,
    InternalError,
    InvalidCharacters,
    NotAuthenticated,
    TooManyRequests,
)

log = logging.getLogger("cinema.api")

SECRET_FIELDS = {"password", "old_password", "new_password", "token", "refresh_token"}

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


class ErrorBody(BaseModel):
    """The error body of every non-422 error (for `responses=` in route declarations)."""

    detail: str
    code: str


def error_responses(*errors: type[CinemaError]) -> dict[int | str, dict[str, Any]]:
    """A route's OpenAPI `responses=` built from the error classes it can raise.

    One entry per HTTP status, listing each class's `code` and sentence, so the
    documented errors are the declared ones (docs/errors.md) and never drift
    into hand-written strings. A 422 also keeps FastAPI's validation shape
    (cinema/api/docs.py declares both).
    """
    by_status: dict[int, list[type[CinemaError]]] = {}
    for error in errors:
        by_status.setdefault(error.status_code, []).append(error)
    return {
        status: {
            "model": ErrorBody,
            "description": "; ".join(f"`{e.code}`: {e.default_detail}" for e in classes),
        }
        for status, classes in sorted(by_status.items())
    }


def error_response(
    status_code: int, detail: str, code: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code, **extra}, status_code=status_code, headers=headers)


def _declared(error: type[CinemaError], headers: dict[str, str] | None = None) -> JSONResponse:
    """The answer for a declared condition the handlers below meet outside any service."""
    return error_response(error.status_code, error.default_detail, error.code, headers)


async def _cinema_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CinemaError)
    headers: dict[str, str] = {}
    challenges: tuple[str, ...] = getattr(exc, "www_authenticate", ())
    if isinstance(exc, NotAuthenticated) and not challenges:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    response = error_response(
        exc.status_code, exc.detail, exc.code, headers or None, **jsonable_encoder(exc.extra)
    )
    for challenge in challenges:  # several challenges: one header each (RFC 9110, 11.6.1)
        response.headers.append("WWW-Authenticate", challenge)
    return response


#: Where a connection error must come from to count as "the database is down".
_DB_MODULES = ("/asyncpg/", "/piccolo/engine/", "/aiosqlite/")
DB_RETRY_AFTER_SECONDS = 5


def _raised_in_db_driver(exc: BaseException) -> bool:
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename.replace("\\", "/")
        if any(part in filename for part in _DB_MODULES):
            return True
        tb = tb.tb_next
    return False


def database_unavailable_reason(exc: BaseException) -> str | None:
    """Why `exc` means the database cannot be reached, or None when it is another error.

    Counts: asyncpg connection failures and server shutdowns, `OSError`s
    (refused, reset, timed out) raised inside the database driver, and SQLite's
    "unable to open database file". Follows `__cause__`/`__context__`.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.OperationalError) and "unable to open" in str(current):
            return "sqlite_unopenable"
        if isinstance(
            current,
            asyncpg.exceptions.PostgresConnectionError
            | asyncpg.exceptions.CannotConnectNowError
            | asyncpg.exceptions.AdminShutdownError
            | asyncpg.exceptions.CrashShutdownError
            | asyncpg.exceptions.TooManyConnectionsError
            | asyncpg.exceptions.ConnectionDoesNotExistError,
        ):
            return type(current).__name__
        if isinstance(current, asyncpg.exceptions.InterfaceError):
            text = str(current).lower()
            if "connection" in text or "pool" in text:
                return type(current).__name__
        if isinstance(current, OSError) and _raised_in_db_driver(current):
            return type(current).__name__
        current = current.__cause__ or current.__context__
    return None


async def _maybe_database_error(request: Request, exc: Exception) -> JSONResponse:
    """Handler for driver and OS errors: 503 when the database is unreachable, else the 500 path."""
    if isinstance(
        exc,
        asyncpg.exceptions.CharacterNotInRepertoireError | asyncpg.exceptions.UntranslatableCharacterError,
    ):
        # Text PostgreSQL cannot store (a NUL character): bad input, whichever route it came in by.
        return _declared(InvalidCharacters)
    if is_unique_violation(exc) or is_foreign_key_violation(exc):
        # A row the request relied on changed meanwhile (e.g. a movie deleted while it
        # was being added). Services handle the races they know of; this is the net.
        log.warning("integrity conflict on %s %s: %s", request.method, request.url.path, exc)
        return _declared(ConcurrentChange)
    reason = database_unavailable_reason(exc)
    if reason is None:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            log.warning("database busy on %s %s", request.method, request.url.path)
            return _declared(DatabaseBusy, {"Retry-After": str(DB_RETRY_AFTER_SECONDS)})
        return await _unhandled(request, exc)
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.url.path,
        reason,
        extra={"reason": reason},
    )
    return _declared(DatabaseUnavailable, {"Retry-After": str(DB_RETRY_AFTER_SECONDS)})


#: Bounds of what a 422 echoes back of the submitted input.
ECHO_MAX_CHARS = 100
ECHO_MAX_ITEMS = 10
ECHO_MAX_DEPTH = 3
MAX_ERRORS = 20
#: Stands in for what was cut.
CUT = "..."


def _short_text(text: str) -> str:
    return text if len(text) <= ECHO_MAX_CHARS else text[:ECHO_MAX_CHARS] + CUT


def _mask(value: Any, depth: int = 0) -> Any:
    """`value` with every secret field's value replaced, cut to the echo bounds."""
    if isinstance(value, dict | list) and depth >= ECHO_MAX_DEPTH:
        return CUT
    if isinstance(value, dict):
        items = list(value.items())
        masked = {
            _short_text(str(k)): ("***" if k in SECRET_FIELDS else _mask(v, depth + 1))
            for k, v in items[:ECHO_MAX_ITEMS]
        }
        if len(items) > ECHO_MAX_ITEMS:
            masked[CUT] = CUT
        return masked
    if isinstance(value, list):
        return [_mask(v, depth + 1) for v in value[:ECHO_MAX_ITEMS]] + (
            [CUT] if len(value) > ECHO_MAX_ITEMS else []
        )
    if isinstance(value, str):
        return _short_text(value)
    return value


def _scrub(error: dict[str, Any]) -> dict[str, Any]:
    loc = error.get("loc") or ()
    if any(part in SECRET_FIELDS for part in loc if isinstance(part, str)):
        error = {k: v for k, v in error.items() if k not in ("input", "ctx")}
    else:
        # The input may be the whole body (with a password) when the error is about its shape.
        error = {**error, "input": _mask(error.get("input"))} if "input" in error else dict(error)
    # A location names the client's own keys (an unknown field of 100 kB, say).
    error["loc"] = [_short_text(part) if isinstance(part, str) else part for part in loc]
    error.pop("url", None)
    return error


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = jsonable_encoder([_scrub(e) for e in exc.errors()[:MAX_ERRORS]])
    try:
        return JSONResponse({"detail": errors, "code": "validation_error"}, status_code=422)
    except (ValueError, UnicodeError):
        # The echoed input cannot be JSON (NaN, Infinity, a lone surrogate): drop it.
        errors = [{k: v for k, v in e.items() if k not in ("input", "ctx")} for e in errors]
        return JSONResponse({"detail": errors, "code": "validation_error"}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
    return error_response(exc.status_code, detail, code, dict(exc.headers) if exc.headers else None)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _declared(InternalError)


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(CinemaError, _cinema_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OSError, _maybe_database_error)
    app.add_exception_handler(sqlite3.Error, _maybe_database_error)
    app.add_exception_handler(asyncpg.exceptions.PostgresError, _maybe_database_error)
    app.add_exception_handler(asyncpg.exceptions.InterfaceError, _maybe_database_error)
    app.add_exception_handler(Exception, _unhandled)
