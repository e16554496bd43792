"""Entitlements end to end over HTTP: bought through the sandbox, watched, refunded; granted, revoked.

Playback and watch progress follow the one rule: once a right ends no new
playback URL is issued and no position is saved (403 `not_entitled`), and
continue watching drops the movie while the history keeps it.
"""

from __future__ import annotations

from typing import Any

from cinema.accounts.actor import GroupName
from cinema.media.storage import new_key
from cinema.media.tables import AssetStatus, MediaAsset, MediaKind
from tests.entitlements.conftest import make_movie


async def _feature(movie_id: int) -> None:
    """A ready feature row (playback signs its key; no bytes are read)."""
    await MediaAsset(
        movie=movie_id,
        kind=MediaKind.FEATURE,
        status=AssetStatus.READY,
        storage_key=new_key(movie_id, True, "webm"),
        content_type="video/webm",
        size_bytes=1000,
        duration_seconds=600.0,
    ).save()


async def _play(client: Any, movie: int, who: Any) -> Any:
    return await client.get(f"/movies/{movie}/playback", headers=who.headers)


async def test_a_revoked_grant_stops_playback_and_progress(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    viewer = await make_user()
    movie = await make_movie()
    await _feature(movie)
    assert (await _play(client, movie, viewer)).status_code == 403

    grant = await client.post(
        "/entitlements",
        json={"user_id": viewer.id, "movie_id": movie, "reason": "Preview"},
        headers=admin.headers,
    )
    assert grant.status_code == 201
    assert (await _play(client, movie, viewer)).status_code == 200
    saved = await client.put(
        f"/movies/{movie}/progress", json={"position_seconds": 60}, headers=viewer.headers
    )
    assert saved.status_code == 204
    watching = (await client.get("/me/continue-watching", headers=viewer.headers)).json()
    assert [i["movie_id"] for i in watching["items"]] == [movie]

    revoked = await client.request(
        "DELETE",
        f"/entitlements/{grant.json()['id']}",
        json={"reason": "Preview over"},
        headers=admin.headers,
    )
    assert revoked.status_code == 200

    refused = await _play(client, movie, viewer)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_entitled")
    progress = await client.put(
        f"/movies/{movie}/progress", json={"position_seconds": 61}, headers=viewer.headers
    )
    assert (progress.status_code, progress.json()["code"]) == (403, "not_entitled")
    assert (await client.get("/me/continue-watching", headers=viewer.headers)).json()["total"] == 0
    assert (await client.get("/me/history", headers=viewer.headers)).json()["total"] == 1
    assert (await client.get(f"/movies/{movie}", headers=viewer.headers)).json()["access"] is None
    assert (await client.get("/library", headers=viewer.headers)).json()["items"] == []
    # Staff may always watch, entitled or not.
    assert (await _play(client, movie, await make_user(group=GroupName.MODERATOR))).status_code == 200


async def test_a_sandbox_purchase_grants_and_its_refund_revokes(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    buyer = await make_user()
    heat, ronin = await make_movie(), await make_movie(name="Ronin", year=1998)
    for movie in (heat, ronin):
        await _feature(movie)
        added = await client.post("/cart/items", json={"movie_id": movie}, headers=buyer.headers)
        assert added.status_code == 201, added.text
    order = (await client.post("/orders", headers=buyer.headers)).json()["order"]
    payment_id = (await client.post(f"/payments/{order['id']}", headers=buyer.headers)).json()["payment_id"]
    paid = await client.post(f"/payments/{payment_id}/sandbox/succeed", headers=buyer.headers)
    assert paid.json()["status"] == "successful"

    rows = (await client.get("/entitlements", params={"user_id": buyer.id}, headers=admin.headers)).json()[
        "items"
    ]
    assert sorted((r["movie_id"], r["source"], r["payment_id"], r["active"]) for r in rows) == [
        (heat, "purchase", payment_id, True),
        (ronin, "purchase", payment_id, True),
    ]
    assert all(r["order_item_id"] is not None for r in rows)
    assert (await _play(client, heat, buyer)).status_code == 200
    library = (await client.get("/library", headers=buyer.headers)).json()
    assert sorted(i["id"] for i in library["items"]) == sorted([heat, ronin])
    purchases = (await client.get("/purchases", headers=buyer.headers)).json()
    assert sorted(i["id"] for i in purchases["items"]) == sorted([heat, ronin])

    refunded = await client.post(f"/payments/{payment_id}/refund", headers=admin.headers)
    assert refunded.json()["status"] == "refunded"

    rows = (await client.get("/entitlements", params={"user_id": buyer.id}, headers=admin.headers)).json()[
        "items"
    ]
    assert {(r["revoke_reason"], r["active"]) for r in rows} == {("refund", False)}
    for movie in (heat, ronin):
        assert (await _play(client, movie, buyer)).status_code == 403
    assert (await client.get("/library", headers=buyer.headers)).json()["total"] == 0
    assert (await client.get("/purchases", headers=buyer.headers)).json()["total"] == 0
