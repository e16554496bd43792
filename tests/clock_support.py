"""A movable clock for tests: `cinema.clock.utcnow`, moved forward on demand, in this process.

Every module of the product reads time through `cinema.clock.utcnow`, either
as `clock.utcnow()` or bound by `from cinema.clock import utcnow`. The
fixture `movable_clock` (see `tests/entitlements/conftest.py`) replaces the
function and every binding of it in the loaded `cinema` and `cli` modules, so
services, routes and tasks run in-process (the ASGI client, the in-memory
broker) all see the moved time. Access tokens still expire by the real clock
(PyJWT) and sessions last days, so a test may move hours or days and keep its
headers. Code running in another process (the uvicorn app of the Stripe
stack) keeps the real time.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

import pytest

from cinema import clock


class MovableClock:
    """The real time plus an offset that only grows (`advance`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = timedelta(0)
        real = clock.utcnow

        def moved() -> datetime:
            return real() + self.offset

        for name, module in list(sys.modules.items()):
            if name.split(".")[0] in ("cinema", "cli") and getattr(module, "utcnow", None) is real:
                monkeypatch.setattr(module, "utcnow", moved)

    def now(self) -> datetime:
        return clock.utcnow()

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by `timedelta(**delta)`; returns the new now."""
        step = timedelta(**delta)
        assert step >= timedelta(0), "the clock only moves forward"
        self.offset += step
        return self.now()
