"""One mapping from domain errors (and framework errors) to JSON responses.

Body shape: `{"detail": "<sentence>", "code": "<snake_case>"}` (API.md). 422s keep
FastAPI's shape, but submitted values of secret fields are never echoed.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cinema.errors import CinemaError, NotAuthenticated, TooManyRequests

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


def error_response(
    status_code: int, detail: str, code: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code, **extra}, status_code=status_code, headers=headers)


async def _cinema_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CinemaError)
    headers: dict[str, str] = {}
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(
        exc.status_code, exc.detail, exc.code, headers or None, **jsonable_encoder(exc.extra)
    )


def _scrub(error: dict[str, Any]) -> dict[str, Any]:
    loc = error.get("loc") or ()
    if any(part in SECRET_FIELDS for part in loc if isinstance(part, str)):
        error = {k: v for k, v in error.items() if k not in ("input", "ctx")}
    else:
        error = dict(error)
        # The input may be the whole body (with a password) when the error is about its shape.
        if isinstance(error.get("input"), dict):
            error["input"] = {k: ("***" if k in SECRET_FIELDS else v) for k, v in error["input"].items()}
    error.pop("url", None)
    return error


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_scrub(e) for e in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors), "code": "validation_error"}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
    return error_response(exc.status_code, detail, code, dict(exc.headers) if exc.headers else None)


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "Internal server error.", "internal_error")


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(CinemaError, _cinema_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
