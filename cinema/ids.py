"""Row ids: their bound and the annotated types every door validates them with.

Ids are PostgreSQL `integer` (serial) columns, so a larger number cannot name a
row and would make the database raise: input ids outside 1..`MAX_ID` are
refused up front (a 422 in the API, a usage error in the CLI).

- `Id` is a plain constrained int for request bodies, queries and schemas.
- The `...Id` path types add the OpenAPI description of a route's path
  parameter; routers use them instead of writing `Path(ge=1, le=MAX_ID)` again.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Path
from pydantic import Field

#: Largest row id: PostgreSQL's INTEGER (serial) bound.
MAX_ID = 2**31 - 1


#: The rule, as the CLI and the user-reference parser say it.
ID_RULE = f"ids are whole numbers from 1 to {MAX_ID}"
#: An integer as typed, sign included (`-1` is an out-of-range id, not an email).
INTEGER = re.compile(r"[+-]?\d+")


def is_id(value: int) -> bool:
    """True when `value` can be a row id (1..MAX_ID)."""
    return 1 <= value <= MAX_ID


def id_problem(text: str) -> str | None:
    """None when `text` is an id the database can hold, else a sentence saying why not."""
    if not INTEGER.fullmatch(text.strip()):
        return f"{text!r} is not an id: {ID_RULE}."
    if not is_id(int(text)):
        return f"{int(text)} is out of range: {ID_RULE}."
    return None


#: A row id in a body, a query or a schema.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def path_id(description: str) -> Any:
    """The `Path(...)` of a row id in a route's path, with its OpenAPI description."""
    return Path(ge=1, le=MAX_ID, description=description)


#: A row id in a path, for routes whose parameter needs no description of its own.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
UserId = Annotated[int, path_id("User id")]
MovieId = Annotated[int, path_id("Movie id")]
EntryId = Annotated[int, path_id("Entry id")]
CommentId = Annotated[int, path_id("Comment id")]
NotificationId = Annotated[int, path_id("Notification id")]
OrderId = Annotated[int, path_id("Order id")]
PaymentId = Annotated[int, path_id("Payment id")]
RefundRequestId = Annotated[int, path_id("Refund request id")]
UploadId = Annotated[int, path_id("Upload id")]
