"""Request id and the structured request log (pure ASGI middleware).

Each HTTP request gets an id: the client's `X-Request-ID` when it is a sane
token (1..128 of `A-Za-z0-9._:-`), else a fresh UUID4 hex. The id is echoed in
the `X-Request-ID` response header and set in `cinema.logging.request_id_var`,
so every log line written while serving the request carries it.

When the response finishes, one line is logged on `cinema.request`:
`method`, `path` (no query string values that look secret; path and query
cut at `MAX_LOGGED_CHARS`), `status`,
`duration_ms`, `client`, `user_id` (when a Bearer token was accepted) and
`request_id`. Headers and bodies are never logged.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cinema.logging import REDACTED, is_secret_key, redact, request_id_var

log = logging.getLogger("cinema.request")

REQUEST_ID_HEADER = "x-request-id"
#: Longest path and query string written to the log; the client chooses them, a person reads them.
MAX_LOGGED_CHARS = 2048
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = str(value.decode("latin-1")).strip()
            if _VALID_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _safe_query(raw: bytes) -> str | None:
    if not raw:
        return None
    pairs = parse_qsl(raw[:MAX_LOGGED_CHARS].decode("latin-1"), keep_blank_values=True)
    # Values are redacted decoded, before re-encoding: `Bearer%20x` must meet the patterns as `Bearer x`.
    return urlencode([(k, REDACTED if is_secret_key(k) else redact(v)) for k, v in pairs], safe="[]")


class RequestContextMiddleware:
    """Assigns the request id and writes one structured log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        header_value = request_id.encode("latin-1")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", header_value))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            state: Any = scope.get("state") or {}
            user_id = state.get("user_id") if isinstance(state, dict) else getattr(state, "user_id", None)
            client = scope.get("client")
            extra: dict[str, Any] = {
                "method": scope.get("method"),
                "path": str(scope.get("path", ""))[:MAX_LOGGED_CHARS],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "client": client[0] if client else None,
            }
            query = _safe_query(scope.get("query_string", b""))
            if query:
                extra["query"] = query
            if user_id is not None:
                extra["user_id"] = user_id
            level = logging.ERROR if status >= 500 else logging.INFO
            log.log(level, "%s %s %s", extra["method"], extra["path"], status, extra=extra)
            request_id_var.reset(token)
