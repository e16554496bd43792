"""Entitlement shapes: what the API, the CLI and the admin show and take (docs/entitlements.md)."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from cinema.catalog.schemas import MovieDetail, MovieListItem
from cinema.clock import IsoDateOrDatetime
from cinema.db import MAX_ID
from cinema.entitlements.tables import EntitlementSource
from cinema.text import NoControlCharacters

#: Longest reason a grant or revocation takes.
REASON_MAX = 500

RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=REASON_MAX),
    NoControlCharacters(multiline=True),
    Field(description="Why, for the record (1 to 500 characters)."),
]


class EntitlementStatus(enum.StrEnum):
    """Where a row stands now; only `active` gives access (docs/entitlements.md, "Who may watch")."""

    ACTIVE = "active"
    #: Not started yet (`starts_at` in the future).
    SCHEDULED = "scheduled"
    #: Past `expires_at`, or a rental never started before `start_by`.
    EXPIRED = "expired"
    #: Paused by an open chargeback.
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class EntitlementOut(BaseModel):
    """One entitlement, as staff see it (`GET /entitlements`, `cinema entitlements list`)."""

    id: int
    user_id: int
    movie_id: int
    source: EntitlementSource
    order_item_id: int | None
    payment_id: int | None
    starts_at: datetime
    expires_at: datetime | None = Field(description="Null: forever (or a rental not started yet).")
    start_by: datetime | None = Field(description="A rental's deadline to start watching.")
    granted_by: int | None
    grant_reason: str | None
    revoked_at: datetime | None
    revoke_reason: str | None
    revoked_by: int | None
    suspended_at: datetime | None
    created_at: datetime
    active: bool = Field(description="Gives access now.")
    status: EntitlementStatus


def _end_of_day(value: date | datetime) -> datetime:
    """A datetime in UTC (naive: read as UTC); a bare date: the end of that UTC day (the next midnight).

    Raises ValueError for an instant outside what both engines store (past year 9999 in UTC).
    """
    try:
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        return datetime.combine(value + timedelta(days=1), time(0), tzinfo=UTC)
    except OverflowError:
        raise ValueError("expires_at is out of range (at most 9999-12-30)") from None


class GrantIn(BaseModel):
    """Body of `POST /entitlements`."""

    user_id: RowId
    movie_id: RowId
    expires_at: IsoDateOrDatetime | None = Field(
        None,
        description="When access ends (ISO 8601; a date means the end of that UTC day). Omitted: forever.",
    )
    reason: Reason

    @field_validator("expires_at")
    @classmethod
    def _storable(cls, value: date | datetime | None) -> date | datetime | None:
        if value is not None:
            _end_of_day(value)  # ValueError (422) when it cannot be stored
        return value

    @property
    def expiry(self) -> datetime | None:
        """`expires_at` as an aware datetime (a date: the end of that UTC day)."""
        return None if self.expires_at is None else _end_of_day(self.expires_at)


class RevokeIn(BaseModel):
    """Body of `DELETE /entitlements/{id}`."""

    reason: Reason


class AccessOut(BaseModel):
    """The caller's live right to a movie: its kind and when it ends."""

    kind: EntitlementSource = Field(description="`purchase`, `rental` or `grant`.")
    expires_at: datetime | None = Field(
        description="When access ends; null: forever, or a rental not started."
    )
    start_by: datetime | None = Field(
        None, description="A rental not started yet: watch before this, or it lapses."
    )
    started: bool = Field(description="False only for a rental whose first playback has not happened yet.")
    seconds_left: int | None = Field(
        description="Seconds until `expires_at` (or, for a rental not started, until `start_by`); "
        "null when it never ends."
    )


class LibraryItem(MovieListItem):
    """`GET /library`: a movie the caller may watch, with how."""

    access: AccessOut | None = Field(description="Null only when the right ended a moment ago.")


class MovieDetailOut(MovieDetail):
    """`GET /movies/{id}`: the catalog's detail, with the signed-in caller's `access`."""

    access: AccessOut | None = Field(
        None, description="The caller's live right to watch (null: none, or not signed in)."
    )


class GrantFailure(BaseModel):
    """One line of a bulk grant that was not granted."""

    line: int = Field(description="Line number in the input, from 1 (the CSV header is line 1).")
    input: str
    code: str
    detail: str
    problem: str | None = Field(None, description="What is wrong with the line, for `invalid_grant_line`.")


class GrantReport(BaseModel):
    """What a bulk grant did (`cinema entitlements grant --file`)."""

    dry_run: bool
    lines: int
    granted: int = Field(description="Lines granted (in a dry run: that would be granted).")
    failed: int
    failures: list[GrantFailure]
    entitlement_ids: list[int] = Field(description="The rows made (none in a dry run).")
    seconds: float
