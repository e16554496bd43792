"""Date filters shared by the staff lists of orders and payments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from piccolo.columns import Timestamptz
from piccolo.custom_types import Combinable

from cinema.commerce.errors import InvalidDate, InvalidDateRange


def utc_bound(value: date | datetime, *, end: bool) -> datetime:
    """A filter bound in UTC. A naive datetime is taken as UTC; a date means the whole
    UTC day: `date_from` its start, `date_to` the start of the next day (exclusive).

    Raises `InvalidDate` (422) for a bound that has no UTC equivalent (e.g.
    `date_to=9999-12-31` or `9999-12-31T23:59:59-14:00`)."""
    try:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return datetime.combine(value + timedelta(days=1) if end else value, time.min, tzinfo=UTC)
    except OverflowError as exc:  # e.g. date_to=9999-12-31: its next day, or UTC, is past year 9999
        raise InvalidDate() from exc


def created_between(
    column: Timestamptz, date_from: date | datetime | None, date_to: date | datetime | None
) -> list[Combinable]:
    """The clauses keeping rows whose `column` lies between the bounds (either may be None).

    Dates are whole UTC days, both inclusive; datetimes are exact, inclusive
    bounds. Raises `InvalidDateRange` (400) when `date_from` is after
    `date_to`, and `InvalidDate` (see `utc_bound`).
    """
    clauses: list[Combinable] = []
    start = utc_bound(date_from, end=False) if date_from is not None else None
    if start is not None:
        clauses.append(column >= start)
    if date_to is not None:
        finish = utc_bound(date_to, end=True)
        inclusive = isinstance(date_to, datetime)  # a date's bound is the next day's start, exclusive
        if start is not None and (finish < start if inclusive else finish <= start):
            raise InvalidDateRange()
        clauses.append(column <= finish if inclusive else column < finish)
    return clauses
