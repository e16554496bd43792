"""Date filters shared by the admin lists of orders and payments."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from cinema.errors import ValidationFailed


def utc_bound(value: date | datetime, *, end: bool) -> datetime:
    """A filter bound in UTC. A naive datetime is taken as UTC; a date means the whole
    UTC day: `date_from` its start, `date_to` the start of the next day (exclusive).

    Raises `ValidationFailed` (422, `invalid_date`) for a bound that has no UTC
    equivalent (e.g. `date_to=9999-12-31` or `9999-12-31T23:59:59-14:00`)."""
    try:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return datetime.combine(value + timedelta(days=1) if end else value, time.min, tzinfo=UTC)
    except OverflowError as exc:  # e.g. date_to=9999-12-31: its next day, or UTC, is past year 9999
        raise ValidationFailed(
            f"{value.isoformat()} is outside the dates this filter supports.", code="invalid_date"
        ) from exc
