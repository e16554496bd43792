"""Concurrent grants and revocations of one user's rights apply one after the other (both engines).

On PostgreSQL the calls run on separate pooled connections at once and queue
on the user's row lock; on SQLite each write transaction is `BEGIN IMMEDIATE`
and waits for the one before. Either way each change sees the one before it.
"""

from __future__ import annotations

import asyncio

from cinema.clock import utcnow
from cinema.db import fetch, transaction
from cinema.entitlements import service
from cinema.entitlements.errors import AlreadyOwned
from cinema.pagination import PageParams
from tests.entitlements.conftest import admin_actor, make_movie


async def test_ten_concurrent_grants_make_one_right(make_user) -> None:
    admin = await admin_actor(make_user)
    viewer = await make_user()
    movie = await make_movie()

    results = await asyncio.gather(
        *(service.grant(admin, viewer.id, movie, reason=f"try {i}") for i in range(10)),
        return_exceptions=True,
    )

    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, AlreadyOwned)]
    assert (len(made), len(refused)) == (1, 9)
    page = await service.list_entitlements(admin, PageParams(), user=viewer.id)
    assert [e.id for e in page.items] == [made[0].id]


async def test_concurrent_revoke_and_grant_end_in_a_serial_outcome(make_user) -> None:
    """Revoke the right and grant it again at once, for many movies: every outcome is one of the two orders."""
    admin = await admin_actor(make_user)
    viewer = await make_user()
    movies = [await make_movie(name=f"Film {i}", year=1990 + i) for i in range(8)]
    first = {m: await service.grant(admin, viewer.id, m, reason="first") for m in movies}

    outcomes = await asyncio.gather(
        *(
            asyncio.gather(
                service.revoke(admin, first[m].id, reason="ended"),
                service.grant(admin, viewer.id, m, reason="second"),
                return_exceptions=True,
            )
            for m in movies
        )
    )

    for movie, (revoked, granted) in zip(movies, outcomes, strict=True):
        assert not isinstance(revoked, BaseException), revoked
        live = await fetch(
            "SELECT id FROM entitlements WHERE user_id = {} AND movie_id = {} AND revoked_at IS NULL",
            viewer.id,
            movie,
        )
        if isinstance(granted, AlreadyOwned):
            # The grant went first, saw the first right live, and was refused; then the revoke.
            assert live == []
        else:
            # The revoke went first; the grant saw no live right and made the only one.
            assert not isinstance(granted, BaseException), granted
            assert [int(r["id"]) for r in live] == [granted.id]
            assert granted.created_at >= revoked.revoked_at


async def test_a_grant_waits_for_a_change_in_progress_and_sees_it(make_user) -> None:
    """While one transaction holds the user's rights, a grant waits, then judges by what it committed."""
    admin = await admin_actor(make_user)
    viewer = await make_user()
    movie = await make_movie()
    holding = asyncio.Event()
    release = asyncio.Event()

    async def slow_grant() -> None:
        async with transaction():
            await service.lock_user(viewer.id)
            holding.set()
            await release.wait()
            await fetch(
                "INSERT INTO entitlements (user_id, movie_id, source, starts_at, created_at, grant_reason) "
                "VALUES ({}, {}, 'grant', {}, {}, 'first')",
                viewer.id,
                movie,
                *[utcnow()] * 2,
            )

    first = asyncio.create_task(slow_grant())
    await holding.wait()
    second = asyncio.create_task(service.grant(admin, viewer.id, movie, reason="second"))
    await asyncio.sleep(0.5)
    assert not second.done()  # queued behind the first transaction
    release.set()
    await first
    try:
        await second
    except AlreadyOwned:
        pass
    else:  # pragma: no cover - the rule failed
        raise AssertionError("the second grant did not see the first")
    rows = await fetch("SELECT grant_reason FROM entitlements WHERE user_id = {}", viewer.id)
    assert [r["grant_reason"] for r in rows] == ["first"]
