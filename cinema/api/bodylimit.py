"""Request body size limit, enforced before anything parses the body (pure ASGI middleware).

Every request body may hold at most `MAX_REQUEST_BODY_BYTES` (default 1 MiB);
a route that takes more (an upload) declares its own cap for its path, e.g.
`avatars.BODY_LIMITS`, collected by the app factory. The limit is enforced
twice, so neither a lying nor a missing `Content-Length` gets past it:

- a declared `Content-Length` over the limit is answered 413 at once, before
  routing, authentication or any read of the body;
- the bytes actually received are counted as the app reads them, and the read
  that crosses the limit raises `BodyTooLarge` (an HTTP 413), so a chunked
  upload is cut off there instead of being buffered whole.

Either way the answer is `{"detail": ..., "code": "payload_too_large"}`.

FastAPI's own `max_body_size` was not used: it answers a declared oversized
body with a plain-text 413, outside the API's error format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAYLOAD_TOO_LARGE = "payload_too_large"


def too_large_detail(limit: int) -> str:
    return f"The request body is larger than the {limit} bytes allowed here."


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the received bytes pass the limit; the error handlers answer 413.

    An `HTTPException` on purpose: FastAPI lets those escape body parsing
    unchanged (any other error there becomes a 400).
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_detail(limit))


class BodySizeLimit:
    """Refuse request bodies over `limit` bytes (or the `overrides` limit of a path prefix) with 413."""

    def __init__(self, app: ASGIApp, *, limit: int, overrides: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        # Longest prefix first, so a nested path's own cap wins over its parent's.
        self.overrides = sorted(
            ((prefix.rstrip("/"), cap) for prefix, cap in (overrides or {}).items()),
            key=lambda item: len(item[0]),
            reverse=True,
        )

    def limit_for(self, route_path: str) -> int:
        for prefix, cap in self.overrides:
            if route_path == prefix or route_path.startswith(prefix + "/"):
                return cap
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        limit = self.limit_for(path[len(root_path) :] if root_path and path.startswith(root_path) else path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_too_large(send, limit)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            # Normally the app's error handlers answer it; this catches a read made
            # outside a route (a mounted app without them).
            if started:
                raise
            await _send_too_large(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            # ASCII digits only, and few of them: int() of thousands of digits is slow, then refused.
            return int(text) if text.isascii() and text.isdigit() and len(text) <= 20 else None
    return None


async def _send_too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": too_large_detail(limit), "code": PAYLOAD_TOO_LARGE}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The unread body is left behind: the client must not reuse this connection.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
