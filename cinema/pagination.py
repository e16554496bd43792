"""Paging shared by every list: `?page=1&per_page=20` and the envelope of docs/api.md, "Conventions"."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")

MAX_PER_PAGE = 100
#: The largest OFFSET a list sends to the database (both engines take a signed
#: 64-bit integer): an absurd page number is simply past the end.
MAX_OFFSET = 2**62


@dataclass(frozen=True)
class PageParams:
    """A validated page request: `page` >= 1, `per_page` 1..100."""

    page: int = 1
    per_page: int = 20

    def __post_init__(self) -> None:
        if self.page < 1 or not 1 <= self.per_page <= MAX_PER_PAGE:
            raise ValueError("page must be >= 1 and per_page 1..100")

    @property
    def offset(self) -> int:
        return min((self.page - 1) * self.per_page, MAX_OFFSET)


class Page(BaseModel, Generic[T]):
    """`{"items", "page", "per_page", "total", "pages"}`; a page past the end has no items."""

    items: list[T]
    page: int
    per_page: int
    total: int
    pages: int

    @classmethod
    def build(cls, items: list[T], params: PageParams, total: int) -> Page[T]:
        return cls(**envelope(items, params, total))


def envelope(items: list[Any], params: PageParams, total: int) -> dict[str, Any]:
    """The `Page` fields as a dict: `items`, `page`, `per_page`, `total` and `pages` (0 when empty)."""
    return {
        "items": items,
        "page": params.page,
        "per_page": params.per_page,
        "total": total,
        "pages": math.ceil(total / params.per_page) if total else 0,
    }
