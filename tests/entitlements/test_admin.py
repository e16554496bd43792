"""The admin's entitlement forms (grant, revoke) call the service; the table is read-only rows."""

from __future__ import annotations

from typing import Any

from cinema.accounts.actor import GroupName
from cinema.entitlements import access
from tests.entitlements.conftest import actor, make_movie, pay
from tests.ops.admin_helpers import csrf, open_admin_session


async def _act(client: Any, slug: str, **data: Any) -> Any:
    return await client.post(f"/admin/api/forms/{slug}/", json=data, headers=csrf(client))


async def test_an_admin_grants_and_revokes_through_the_forms(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    viewer = await make_user()
    movie = await make_movie()
    await open_admin_session(client, admin.id)
    forms = (await client.get("/admin/api/forms/grouped/")).json()
    assert [f["name"] for f in forms["grouped"]["Entitlements"]] == ["Grant access", "Revoke access"]

    granted = await _act(
        client, "grant-access", user=viewer.email.upper(), movie_id=movie, days=3, reason="Jury"
    )

    assert granted.status_code == 200, granted.text
    rows = (await client.get("/admin/api/tables/entitlements/", params={"__order": "-id"})).json()["rows"]
    [row] = rows
    assert (row["user"], row["movie"], row["source"], row["grant_reason"], row["granted_by"]) == (
        viewer.id,
        movie,
        "grant",
        "Jury",
        admin.id,
    )
    assert granted.json()["custom_form_success"].startswith(
        f"Granted #{row['id']}: user {viewer.id} may watch"
    )
    assert await access.may_watch(actor(viewer), movie) is True

    owned = await _act(client, "grant-access", user=str(viewer.id), movie_id=movie, reason="again")
    assert owned.status_code == 200  # a timed right does not make the movie owned for good
    refused = await _act(client, "grant-access", user=str(viewer.id), movie_id=movie, reason="third")
    assert (refused.status_code, refused.json()["code"]) == (422, "already_owned")
    unknown = await _act(client, "grant-access", user="ghost@example.com", movie_id=movie, reason="x")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "user_not_found")
    # Not a user reference at all (an id past MAX_ID, a superscript digit): the form's own 422.
    for malformed in ("99999999999", "\u00b2"):
        bad = await _act(client, "grant-access", user=malformed, movie_id=movie, reason="x")
        assert (bad.status_code, bad.json()["code"]) == (422, "validation_error")
    blank = await _act(client, "grant-access", user=str(viewer.id), movie_id=movie, reason="  ")
    assert (blank.status_code, blank.json()["code"]) == (422, "validation_error")

    for entitlement in (await client.get("/admin/api/tables/entitlements/")).json()["rows"]:
        revoked = await _act(client, "revoke-access", entitlement_id=entitlement["id"], reason="Jury done")
        assert revoked.status_code == 200, revoked.text
    assert await access.may_watch(actor(viewer), movie) is False
    again = await _act(client, "revoke-access", entitlement_id=row["id"], reason="again")
    assert (again.status_code, again.json()["code"]) == (422, "already_revoked")


async def test_the_table_is_read_only_and_moderators_see_neither_table_nor_forms(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    moderator = await make_user(group=GroupName.MODERATOR)
    buyer = await make_user()
    movie = await make_movie()
    paid = await pay(buyer.id, movie)
    await open_admin_session(client, admin.id)

    write = await client.post(
        "/admin/api/tables/entitlements/",
        json={"user": buyer.id, "movie": movie, "source": "grant"},
        headers=csrf(client),
    )
    assert write.status_code in (403, 405), write.text
    delete = await client.delete(
        f"/admin/api/tables/entitlements/{paid.entitlement_ids[0]}/", headers=csrf(client)
    )
    assert delete.status_code in (403, 405), delete.text
    purchase = await _act(client, "revoke-access", entitlement_id=paid.entitlement_ids[0], reason="fraud")
    assert (purchase.status_code, purchase.json()["code"]) == (422, "purchase_not_revocable")
    assert await access.may_watch(actor(buyer), movie) is True

    await open_admin_session(client, moderator.id)
    forms = (await client.get("/admin/api/forms/grouped/")).json()
    assert "Entitlements" not in forms["grouped"]
    assert (
        await _act(client, "grant-access", user=str(buyer.id), movie_id=movie, reason="x")
    ).status_code == 403
    assert (await client.get("/admin/api/tables/entitlements/")).status_code == 403
