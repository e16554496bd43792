"""Piccolo Admin at /admin through its HTTP API: who gets in, and what each group may see and change.

(The browser test, tests/ops/test_admin_browser.py, drives the same flows in Chromium.)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from cinema.accounts.tables import User, UserGroup
from cinema.catalog.tables import Certification, Movie
from cinema.commerce.tables import Order
from tests.ops.admin_helpers import build_world, csrf, group_id, open_admin_session
from tests.ops.admin_helpers import sign_in as admin_session
from tests.ops.conftest import make_movie


async def test_admin_root_redirects_to_the_spa(client) -> None:
    response = await client.get("/admin")
    assert response.status_code == 307
    assert response.headers["location"] == "/admin/"
    page = await client.get("/admin/")
    assert page.status_code == 200
    assert "<html" in page.text.lower()


@pytest.mark.parametrize("group", [GroupName.MODERATOR, GroupName.ADMIN])
async def test_staff_sign_in_with_their_account_email_any_case(client, make_user, group) -> None:
    staff = await make_user(group=group)
    response = await admin_session(client, staff.email.upper(), staff.password)
    assert response.status_code == 200, response.text
    assert "id" in client.cookies
    me = await client.get("/admin/api/user/")
    assert me.status_code == 200
    assert me.json()["user_id"] == str(staff.id)


async def test_user_inactive_and_wrong_password_are_refused(client, make_user) -> None:
    user = await make_user(group=GroupName.USER)
    inactive = await make_user(group=GroupName.MODERATOR, active=False)
    moderator = await make_user(group=GroupName.MODERATOR)
    for email, password in [
        (user.email, user.password),
        (inactive.email, inactive.password),
        (moderator.email, moderator.password + "!"),
        ("nobody@example.com", moderator.password),
    ]:
        client.cookies.clear()
        response = await admin_session(client, email, password)
        assert response.status_code == 401, email
        assert "id" not in client.cookies
        assert (await client.get("/admin/api/tables/")).status_code == 401


async def test_moderator_menu_and_permissions(client, make_user) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    movie_id = await make_movie(price="9.99")
    assert (await admin_session(client, moderator.email, moderator.password)).status_code == 200

    tables = set((await client.get("/admin/api/tables/")).json())
    # What the API lets a MODERATOR use (docs/api.md roles), no more.
    assert tables == {
        "movies",
        "genres",
        "stars",
        "directors",
        "certifications",
        "movie_genres",
        "movie_stars",
        "movie_directors",
        "comments",
        "media_assets",
        "orders",
        "order_items",
        "carts",
        "cart_items",
    }
    grouped = (await client.get("/admin/api/tables/grouped/")).json()["grouped"]
    assert set(grouped) == {"Catalog", "Commerce"}
    assert "movies" in grouped["Catalog"]

    rows = (await client.get("/admin/api/tables/movies/", params={"__readable": "true"})).json()["rows"]
    assert rows[0]["certification_readable"] == "R"
    assert Decimal(str(rows[0]["price"])) == Decimal("9.99")

    schema = (await client.get("/admin/api/tables/movies/schema/")).json()
    assert "certification" in schema["properties"]  # same keys as the rows, so the UI renders them
    # The edit form posts every field back, as they were when it opened: the
    # columns the system keeps come back unchanged and are accepted as such.
    form = (await client.get(f"/admin/api/tables/movies/{movie_id}/")).json()
    form.pop("id")
    other = Certification(name="PG")
    await other.save()
    form.update(price="12.50", certification=other.id)
    patched = await client.patch(f"/admin/api/tables/movies/{movie_id}/", json=form, headers=csrf(client))
    assert patched.status_code == 200, patched.text
    saved = Movie.select(Movie.price, Movie.certification.as_alias("certification"))
    assert await saved.where(Movie.id == movie_id).first().run() == {
        "price": Decimal("12.50"),
        "certification": other.id,
    }
    # A counter changed in the form is refused, naming it; nothing is saved.
    await Movie.update({Movie.likes: 5, Movie.popularity: 5}).where(Movie.id == movie_id).run()
    form = (await client.get(f"/admin/api/tables/movies/{movie_id}/")).json()
    form.update(price="13.00", likes=999)
    refused = await client.patch(f"/admin/api/tables/movies/{movie_id}/", json=form, headers=csrf(client))
    assert refused.status_code == 422, refused.text
    assert [e["loc"] for e in refused.json()["detail"]] == [["likes"]]
    counters = (
        await Movie.select(Movie.likes, Movie.popularity, Movie.price)
        .where(Movie.id == movie_id)
        .first()
        .run()
    )
    assert counters == {"likes": 5, "popularity": 5, "price": Decimal("12.50")}

    order = Order(user=moderator.id, total_amount=Decimal("9.99"))
    await order.save()
    orders = (await client.get("/admin/api/tables/orders/", params={"__readable": "true"})).json()["rows"]
    assert [(o["id"], o["user_readable"], o["status"]) for o in orders] == [
        (order.id, moderator.email, "pending")
    ]
    for method, path in [
        ("GET", "/admin/api/tables/users/"),
        ("GET", "/admin/api/tables/payments/"),
        ("GET", "/admin/api/tables/payments/schema/"),
        ("GET", "/admin/api/tables/refresh_tokens/"),
        ("GET", f"/admin/api/tables/users/{moderator.id}/"),
        ("GET", "/admin/api/tables/users/999999/"),  # 403 too: no probing which rows exist
        ("PATCH", f"/admin/api/tables/orders/{order.id}/"),
        ("DELETE", f"/admin/api/tables/orders/{order.id}/"),
        ("POST", "/admin/api/tables/orders/"),
    ]:
        response = await client.request(method, path, json={}, headers=csrf(client))
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["detail"].startswith("Your role may not")
    assert await Order.count().where(Order.id == order.id).run() == 1


async def test_admin_sees_every_table(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    assert (await admin_session(client, admin.email, admin.password)).status_code == 200
    tables = set((await client.get("/admin/api/tables/")).json())
    assert {
        "users",
        "user_groups",
        "refresh_tokens",
        "orders",
        "payments",
        "movies",
        "admin_sessions",
    } <= tables
    users = (await client.get("/admin/api/tables/users/", params={"__readable": "true"})).json()["rows"]
    assert users[0]["group_readable"] == "ADMIN"
    assert users[0].get("password") is None  # secret column: never sent to the browser


async def test_group_change_in_admin_moves_the_flags_and_ends_admin_access(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    moderator = await make_user(group=GroupName.MODERATOR)
    user_group = await UserGroup.select(UserGroup.id).where(UserGroup.name == "USER").first().run()
    assert user_group is not None
    await open_admin_session(client, admin.id)
    response = await client.patch(
        f"/admin/api/tables/users/{moderator.id}/",
        # Database column names (group_id, is_active) are understood as well as attribute names.
        json={"group_id": user_group["id"], "is_active": True},
        headers=csrf(client),
    )
    assert response.status_code == 200, response.text
    assert response.json()["group"] == user_group["id"]
    row = await User.select(User.admin, User.superuser).where(User.id == moderator.id).first().run()
    assert row == {"admin": False, "superuser": False}

    # Their open admin session no longer gets in (the `admin` flag followed the group).
    await open_admin_session(client, moderator.id)
    assert (await client.get("/admin/api/tables/")).status_code == 401
    assert (await client.get("/admin/api/tables/movies/")).status_code == 401


async def test_demoted_moderator_loses_an_open_admin_session(client, make_user) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    assert (await admin_session(client, moderator.email, moderator.password)).status_code == 200
    assert (await client.get("/admin/api/tables/movies/")).status_code == 200
    user_group = await UserGroup.select(UserGroup.id).where(UserGroup.name == "USER").first().run()
    assert user_group is not None
    # Only the group moves (as if the flags had not been synced): the per-request check still refuses.
    await User.update({User.group: user_group["id"]}).where(User.id == moderator.id).run()
    assert (await client.get("/admin/api/tables/movies/")).status_code == 403
    assert (await client.get("/admin/api/tables/")).json() == []


async def test_admin_sign_in_counts_against_the_account_lock(client, make_user) -> None:
    """Guesses on the admin login page lock the account like API logins (and vice versa)."""
    moderator = await make_user(group=GroupName.MODERATOR)
    for attempt in range(5):
        client.cookies.clear()
        response = await admin_session(client, moderator.email, f"Wrong-{attempt}aA!")
        assert response.status_code == 401
    client.cookies.clear()
    locked = await admin_session(client, moderator.email, moderator.password)
    assert locked.status_code == 401
    assert "id" not in client.cookies
    api = await client.post(
        "/accounts/login", json={"email": moderator.email, "password": moderator.password}
    )
    assert api.status_code == 429


async def test_filters_work_on_foreign_keys_and_renamed_columns(client, make_user) -> None:
    """Orders by user, payments by order, users by group or active: by attribute or database name."""
    world = await build_world(make_user)
    inactive = await make_user(active=False)
    await Order(user=world.admin.id, total_amount=Decimal("1.00")).save()
    await open_admin_session(client, world.admin.id)

    async def ids(table: str, **params: Any) -> list[int]:
        response = await client.get(f"/admin/api/tables/{table}/", params={**params, "__order": "id"})
        assert response.status_code == 200, response.text
        count = await client.get(f"/admin/api/tables/{table}/count/", params=params)
        assert count.status_code == 200, count.text
        found = [int(row["id"]) for row in response.json()["rows"]]
        assert count.json()["count"] == len(found)
        return found

    moderators = await group_id(GroupName.MODERATOR)
    assert await ids("orders", user=world.buyer.id) == [world.order_id]
    assert await ids("orders", user_id=world.buyer.id) == [world.order_id]
    assert await ids("payments", order=world.order_id) == [world.payment_id]
    assert await ids("payments", order_id=world.order_id, status="successful") == [world.payment_id]
    assert await ids("payments", order=world.order_id, status="refunded") == []
    assert await ids("users", group=moderators) == [world.moderator.id]
    assert await ids("users", group_id=moderators, active="true") == [world.moderator.id]
    assert await ids("users", active="false") == [inactive.id]
    assert await ids("users", is_active="false") == [inactive.id]
    assert await ids("refund_requests", order=world.order_id, status="requested") == [world.refund_request_id]
    assert len(await ids("users", group__operator="ne", group=moderators)) == 3
    bad = await client.get("/admin/api/tables/users/", params={"group": "many"})
    assert bad.status_code == 422  # FastAPI checks the filter values first


async def test_the_sign_in_form_asks_for_an_email_and_the_page_explains_refusals(client) -> None:
    """The login form's label comes from the translation; the page loads the 403 explainer script."""
    languages = (await client.get("/admin/public/translations/")).json()
    assert languages == {
        "translations": [{"language_name": "English", "language_code": "en"}],
        "default_language_code": "en",
    }
    english = (await client.get("/admin/public/translations/en/")).json()["translations"]
    assert english["Username"] == "Email"
    assert english["Password"] == "Password"

    page = (await client.get("/admin/")).text
    assert '<script src="./cinema-admin.js" defer></script>' in page
    script = await client.get("/admin/cinema-admin.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "xhr.status === 403" in script.text
