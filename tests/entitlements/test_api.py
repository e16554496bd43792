"""`/entitlements` (ADMIN), `/library` and the movie detail's `access`, over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter

from cinema.accounts.actor import GroupName
from cinema.clock import utcnow
from cinema.entitlements import service
from cinema.entitlements.schemas import LibraryItem, MovieDetailOut
from cinema.pagination import Page, PageParams
from tests.entitlements.conftest import admin_actor, make_movie, pay


async def _grant(client: Any, admin: Any, **body: Any) -> Any:
    return await client.post(
        "/entitlements", json={"reason": "Press screening", **body}, headers=admin.headers
    )


async def test_an_admin_grants_lists_and_revokes(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    viewer = await make_user()
    movie = await make_movie()

    made = await _grant(client, admin, user_id=viewer.id, movie_id=movie, expires_at="2999-01-31")
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["user_id"], body["movie_id"], body["source"], body["status"]) == (
        viewer.id,
        movie,
        "grant",
        "active",
    )
    assert body["expires_at"] == "2999-02-01T00:00:00Z"  # a date: through the end of that UTC day
    assert (body["granted_by"], body["grant_reason"], body["active"]) == (admin.id, "Press screening", True)

    listed = await client.get(
        "/entitlements", params={"user_id": viewer.id, "active": "true"}, headers=admin.headers
    )
    assert listed.status_code == 200
    assert [e["id"] for e in listed.json()["items"]] == [body["id"]]
    one = await client.get(f"/entitlements/{body['id']}", headers=admin.headers)
    assert one.json()["grant_reason"] == "Press screening"

    gone = await client.request(
        "DELETE", f"/entitlements/{body['id']}", json={"reason": "Screening over"}, headers=admin.headers
    )
    assert gone.status_code == 200, gone.text
    assert (gone.json()["status"], gone.json()["revoke_reason"], gone.json()["revoked_by"]) == (
        "revoked",
        "Screening over",
        admin.id,
    )
    again = await client.request(
        "DELETE", f"/entitlements/{body['id']}", json={"reason": "again"}, headers=admin.headers
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_revoked")
    inactive = await client.get("/entitlements", params={"active": "false"}, headers=admin.headers)
    assert [e["id"] for e in inactive.json()["items"]] == [body["id"]]


async def test_refusals_are_clear_4xx(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    buyer = await make_user()
    movie = await make_movie()
    paid = await pay(buyer.id, movie)
    past = (utcnow() - timedelta(hours=1)).isoformat()

    cases = [
        ({"user_id": 999_999, "movie_id": movie}, 404, "user_not_found"),
        ({"user_id": buyer.id, "movie_id": 999_999}, 404, "movie_not_found"),
        ({"user_id": buyer.id, "movie_id": movie}, 409, "already_owned"),
        ({"user_id": buyer.id, "movie_id": movie, "expires_at": past}, 422, "invalid_expiry"),
        ({"user_id": buyer.id, "movie_id": movie, "reason": "  "}, 422, "validation_error"),
        (
            {"user_id": buyer.id, "movie_id": movie, "reason": "tab\tok but bell \x07"},
            422,
            "validation_error",
        ),
        ({"user_id": 0, "movie_id": movie}, 422, "validation_error"),
        ({"user_id": 2**40, "movie_id": movie}, 422, "validation_error"),
        ({"user_id": buyer.id, "movie_id": movie, "expires_at": 1234}, 422, "validation_error"),
        ({"movie_id": movie}, 422, "validation_error"),
        ({"user_id": buyer.id, "movie_id": movie, "expires_at": "9999-12-31"}, 422, "validation_error"),
        (
            {"user_id": buyer.id, "movie_id": movie, "expires_at": "9999-12-31T23:00:00-05:00"},
            422,
            "validation_error",
        ),
    ]
    for body, status, code in cases:
        answer = await _grant(client, admin, **body)
        assert (answer.status_code, answer.json().get("code")) == (status, code), (body, answer.text)

    purchase = await client.request(
        "DELETE", f"/entitlements/{paid.entitlement_ids[0]}", json={"reason": "fraud"}, headers=admin.headers
    )
    assert (purchase.status_code, purchase.json()["code"]) == (409, "purchase_not_revocable")
    missing = await client.request(
        "DELETE", "/entitlements/999999", json={"reason": "x"}, headers=admin.headers
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "entitlement_not_found")
    no_reason = await client.request(
        "DELETE", f"/entitlements/{paid.entitlement_ids[0]}", headers=admin.headers
    )
    assert no_reason.status_code == 422
    assert (await client.get("/entitlements?source=gift", headers=admin.headers)).status_code == 422


async def test_only_admins_use_the_staff_routes(client, make_user) -> None:
    viewer = await make_user()
    movie = await make_movie()
    for group in (GroupName.USER, GroupName.MODERATOR):
        someone = await make_user(group=group)
        answer = await _grant(client, someone, user_id=viewer.id, movie_id=movie)
        assert (answer.status_code, answer.json()["code"]) == (403, "permission_denied")
        assert (await client.get("/entitlements", headers=someone.headers)).status_code == 403
    assert (await client.post("/entitlements", json={})).status_code == 401
    assert (await client.get("/entitlements")).status_code == 401
    assert (await client.get("/library")).status_code == 401


async def test_the_library_lists_what_i_may_watch_with_how(client, make_user) -> None:
    admin = await admin_actor(make_user)
    me = await make_user()
    heat = await make_movie()
    ronin = await make_movie(name="Ronin", year=1998)
    alien = await make_movie(name="Alien", year=1979)
    brazil = await make_movie(name="Brazil", year=1985)
    other = await make_movie(name="Casino", year=1995)
    await pay(me.id, heat)
    await service.grant(admin, me.id, ronin, reason="gift", expires_at=utcnow() + timedelta(days=3))
    await service.grant_rental(me.id, alien, order_item_id=None, payment_id=None)
    ended = await service.grant(admin, me.id, brazil, reason="trial")
    await service.revoke(admin, ended.id, reason="over")
    await service.grant(admin, (await make_user()).id, other, reason="someone else's")

    page = (await client.get("/library", params={"sort": "name"}, headers=me.headers)).json()

    # The body is exactly its documented model (encoded from SQL rows without a validation pass).
    adapter: TypeAdapter[Page[LibraryItem]] = TypeAdapter(Page[LibraryItem])
    assert adapter.dump_python(adapter.validate_python(page), mode="json") == page
    assert [i["name"] for i in page["items"]] == ["Alien", "Heat", "Ronin"]
    assert page["total"] == 3
    alien_access, heat_access, ronin_access = (i["access"] for i in page["items"])
    assert heat_access == {
        "kind": "purchase",
        "expires_at": None,
        "start_by": None,
        "started": True,
        "seconds_left": None,
    }
    assert ronin_access["kind"] == "grant"
    assert ronin_access["started"] is True
    assert 3 * 86400 - 60 < ronin_access["seconds_left"] <= 3 * 86400
    assert (alien_access["kind"], alien_access["started"], alien_access["expires_at"]) == (
        "rental",
        False,
        None,
    )
    assert alien_access["start_by"] is not None
    assert 29 * 86400 < alien_access["seconds_left"] <= 30 * 86400

    await service.start_rental(me.id, alien)
    started = (await client.get("/library", params={"search": "alien"}, headers=me.headers)).json()
    [item] = started["items"]
    assert (item["access"]["started"], item["access"]["start_by"]) == (True, None)
    assert 47 * 3600 < item["access"]["seconds_left"] <= 48 * 3600

    # The catalog's filters and paging apply.
    older = (await client.get("/library", params={"year_to": 1990}, headers=me.headers)).json()
    assert [i["name"] for i in older["items"]] == ["Alien"]
    second = (
        await client.get("/library", params={"sort": "-year", "per_page": 2, "page": 2}, headers=me.headers)
    ).json()
    assert ([i["name"] for i in second["items"]], second["total"], second["pages"]) == (["Alien"], 3, 2)


async def test_the_movie_detail_carries_my_access(client, make_user) -> None:
    admin = await admin_actor(make_user)
    buyer, viewer, stranger = await make_user(), await make_user(), await make_user()
    movie = await make_movie()
    await pay(buyer.id, movie)
    expires = utcnow() + timedelta(days=2)
    await service.grant(admin, viewer.id, movie, reason="gift", expires_at=expires)

    anonymous = (await client.get(f"/movies/{movie}")).json()
    assert anonymous["access"] is None
    for body in (anonymous, (await client.get(f"/movies/{movie}", headers=viewer.headers)).json()):
        assert MovieDetailOut.model_validate(body).model_dump(mode="json") == body
    assert (await client.get(f"/movies/{movie}", headers=stranger.headers)).json()["access"] is None
    bought = (await client.get(f"/movies/{movie}", headers=buyer.headers)).json()["access"]
    assert (bought["kind"], bought["expires_at"]) == ("purchase", None)
    granted = (await client.get(f"/movies/{movie}", headers=viewer.headers)).json()["access"]
    assert granted["kind"] == "grant"
    assert granted["expires_at"] == expires.isoformat().replace("+00:00", "Z")
    assert (await client.get("/movies/999999", headers=buyer.headers)).status_code == 404


async def test_a_granted_movie_may_be_deleted_a_bought_one_not(client, make_user) -> None:
    admin = await admin_actor(make_user)
    moderator = await make_user(group=GroupName.MODERATOR)
    viewer = await make_user()
    granted, bought = await make_movie(), await make_movie(name="Ronin", year=1998)
    await service.grant(admin, viewer.id, granted, reason="gift")
    await pay(viewer.id, bought)

    assert (await client.delete(f"/movies/{granted}", headers=moderator.headers)).status_code == 204
    refused = await client.delete(f"/movies/{bought}", headers=moderator.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "movie_purchased")
    rows = (await service.list_entitlements(admin, PageParams(), user=viewer.id)).items
    assert [(e.movie_id, e.source) for e in rows] == [(bought, "purchase")]
