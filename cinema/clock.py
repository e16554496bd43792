"""The one clock: UTC-aware now, for every domain (times are stored and compared in UTC).

Also the date types of request input: `IsoDate` and `IsoDateOrDatetime` take
ISO 8601 text only. Pydantic would otherwise read a number (`0`, `"0.5"`) as a
Unix timestamp, so a wrong type silently became 1970-01-01 instead of a 422.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_ISO_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def utcnow() -> datetime:
    """The current time, UTC-aware."""
    return datetime.now(UTC)


def _iso_text_only(value: object) -> object:
    if isinstance(value, date):  # a date or datetime from Python code, not from a request
        return value
    if isinstance(value, str) and _ISO_DATE_START.match(value):
        return value
    raise PydanticCustomError("iso_date", "Expected an ISO 8601 date (YYYY-MM-DD) or date-time text.")


#: A date in a request: `YYYY-MM-DD` text (numbers are refused, not read as timestamps).
IsoDate = Annotated[date, BeforeValidator(_iso_text_only)]
#: A date or a date-time in a request: ISO 8601 text.
IsoDateOrDatetime = Annotated[date | datetime, BeforeValidator(_iso_text_only)]
