"""The scheduled rental reminder: once per rental, a day before a started rental ends (clock moved).

The task runs through the in-process broker as the scheduler would kick it
(`cinema.tasks.remind_ending_rentals`); the email lands in the test outbox.
"""

from __future__ import annotations

import asyncio
from typing import Any

from cinema.catalog.tables import Movie
from cinema.db import fetch
from cinema.entitlements import rentals, service
from cinema.tasks import broker, remind_ending_rentals
from tests.conftest import text_of
from tests.entitlements.conftest import admin_actor, make_movie


async def run_task() -> int:
    task = await remind_ending_rentals.kiq()
    await broker.wait_all()
    result = await task.wait_result(timeout=10)
    assert not result.is_err, result.error
    sent: int = result.return_value
    return sent


async def rent_and_start(user_id: int, movie: int, *, hours: int | None = None) -> int:
    if hours is not None:
        await Movie.update({Movie.rental_hours: hours}).where(Movie.id == movie)
    rental = await service.grant_rental(user_id, movie, order_item_id=None, payment_id=None)
    assert await service.start_rental(user_id, movie) is not None
    return rental


async def reminded(rental_id: int) -> Any:
    return (await fetch("SELECT reminded_at FROM entitlements WHERE id = {}", rental_id))[0]["reminded_at"]


async def test_a_renter_is_warned_once_a_day_before_the_rental_ends(
    make_user, movable_clock, outbox, monkeypatch
) -> None:
    monkeypatch.setenv("RENTAL_HOURS", "48")
    renter = await make_user()
    movie = await make_movie(name="Heat")
    rental = await rent_and_start(renter.id, movie)

    assert await run_task() == 0
    movable_clock.advance(hours=23)  # ends in 25 h
    assert await run_task() == 0
    movable_clock.advance(hours=2)  # ends in 23 h
    assert await run_task() == 1
    assert await reminded(rental) is not None

    [mail] = await outbox()
    assert mail["To"] == renter.email
    assert mail["Subject"] == "Your rental ends in a day"
    ends = (await fetch("SELECT expires_at FROM entitlements WHERE id = {}", rental))[0]["expires_at"]
    body = text_of(mail)
    assert "Your rental of Heat ends at " in body
    assert f"/movies/{movie}" in body
    assert str(ends)[:16] in body.replace(" UTC", "")

    # Sent once: later runs, even past the end, send nothing more.
    movable_clock.advance(hours=1)
    assert await run_task() == 0
    movable_clock.advance(hours=30)
    assert await run_task() == 0
    assert len(await outbox()) == 1


async def test_no_reminder_for_unstarted_short_revoked_or_bought_rentals(
    make_user, movable_clock, outbox
) -> None:
    admin = await admin_actor(make_user)
    renter = await make_user()
    unstarted, short, revoked = (
        await make_movie(name="Heat"),
        await make_movie(name="Ronin", year=1998),
        await make_movie(name="Alien", year=1979),
    )
    await service.grant_rental(renter.id, unstarted, order_item_id=None, payment_id=None)
    await rent_and_start(renter.id, short, hours=12)  # a day's warning would come at its start
    ended = await rent_and_start(renter.id, revoked)
    await service.revoke(admin, ended, reason="chargeback")

    for _ in range(4):
        movable_clock.advance(hours=11)
        assert await run_task() == 0
    assert await outbox() == []


async def test_two_runs_at_once_send_one_reminder(make_user, movable_clock, outbox) -> None:
    renter = await make_user()
    rental = await rent_and_start(renter.id, await make_movie())
    now = movable_clock.advance(hours=30)

    sent = await asyncio.gather(*(rentals.remind_ending_rentals(now) for _ in range(5)))

    assert sorted(sent) == [0, 0, 0, 0, 1]
    assert await reminded(rental) is not None
    assert len(await outbox()) == 1
