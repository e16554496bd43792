"""Router that answers a path with and without its trailing slash, never redirecting (API.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


class CinemaRouter(APIRouter):
    """An `APIRouter` registering `/x` and `/x/` for every route.

    The variant the code did not write is hidden from the OpenAPI document, so
    each operation is documented once.
    """

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        alternate = path[:-1] if path.endswith("/") else path + "/"
        if alternate and alternate != "/" and (self.prefix + alternate):
            alt_kwargs = dict(kwargs)
            alt_kwargs["include_in_schema"] = False
            alt_kwargs.pop("operation_id", None)
            super().add_api_route(alternate, endpoint, **alt_kwargs)
