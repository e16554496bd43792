"""Every API path answers with and without its trailing slash, never redirecting
(docs/api.md, "Conventions").

`TrailingSlash` drops one trailing `/` from the request path before routing, so
each route is registered once (`/orders`) and `/orders/` reaches it too.
Registering every route twice instead would double the routes FastAPI matches
one by one on every request. Mounted apps (`/admin`, `/media`) see
their paths unchanged: Piccolo Admin's own pages end in `/`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class TrailingSlash:
    """Pure ASGI middleware: `/x/` is routed as `/x`, except under the `keep` prefixes."""

    def __init__(self, app: ASGIApp, keep: tuple[str, ...] = ()) -> None:
        self.app = app
        self.keep = tuple(prefix.rstrip("/") for prefix in keep)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            root_path: str = scope.get("root_path", "")
            # Routing sees the path without the app's root path (a proxy prefix), and so does `keep`.
            route_path = path[len(root_path) :] if root_path and path.startswith(root_path) else path
            if len(route_path) > 1 and route_path.endswith("/") and not self._kept(route_path):
                scope = {**scope, "path": path[:-1]}
        await self.app(scope, receive, send)

    def _kept(self, route_path: str) -> bool:
        return any(route_path.startswith(prefix + "/") for prefix in self.keep)
