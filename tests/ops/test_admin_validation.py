"""Piccolo Admin edits follow the same rules as the API: account deactivation, catalog bounds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from cinema.accounts.tables import ActivationToken, User
from cinema.catalog.tables import Genre, Movie
from tests.ops.admin_helpers import csrf, open_admin_session
from tests.ops.conftest import make_movie


async def activation_state(user_id: int) -> dict[str, Any] | None:
    """The user's `active` flag and `deactivated_at`, read from the table."""
    return (
        await User.select(User.active.as_alias("active"), User.deactivated_at)
        .where(User.id == user_id)
        .first()
        .run()
    )


async def test_deactivation_in_the_admin_cannot_be_undone_by_an_activation_email(
    client, make_user, outbox
) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    victim = await make_user(email="ui-deactivated@example.com")
    await open_admin_session(client, admin.id)

    response = await client.patch(
        f"/admin/api/tables/users/{victim.id}/", json={"active": False}, headers=csrf(client)
    )
    assert response.status_code == 200, response.text
    row = await activation_state(victim.id)
    assert row is not None
    assert row["active"] is False
    assert row["deactivated_at"] is not None

    resend = await client.post("/accounts/activation/resend", json={"email": victim.email})
    assert resend.status_code == 202
    assert await outbox() == []  # no activation email for a staff-deactivated account
    assert await ActivationToken.count().where(ActivationToken.user == victim.id).run() == 0

    # Saving the form again with the account still inactive keeps the staff mark.
    again = await client.patch(
        f"/admin/api/tables/users/{victim.id}/",
        json={"is_active": False, "deactivated_at": None},
        headers=csrf(client),
    )
    assert again.status_code == 200, again.text
    row = await User.select(User.deactivated_at).where(User.id == victim.id).first().run()
    assert row is not None
    assert row["deactivated_at"] is not None

    # Staff activation in the admin clears it: the user can sign in again.
    back = await client.patch(
        f"/admin/api/tables/users/{victim.id}/", json={"active": True}, headers=csrf(client)
    )
    assert back.status_code == 200, back.text
    row = await activation_state(victim.id)
    assert row == {"active": True, "deactivated_at": None}
    signed_in = await client.post(
        "/accounts/login", json={"email": victim.email, "password": victim.password}
    )
    assert signed_in.status_code == 200


#: Edits the API would refuse (422 there too), and the field the refusal names.
BAD_EDITS: list[tuple[dict[str, object], str]] = [
    ({"price": "-5.00"}, "price"),
    ({"price": "0.00"}, "price"),
    ({"price": "1.999"}, "price"),
    ({"year": 99999}, "year"),
    ({"time": -3}, "time"),
    ({"imdb": 55}, "imdb"),
    ({"votes": -1}, "votes"),
    ({"name": "bad\x00name"}, "name"),
    ({"name": "   "}, "name"),
]


async def test_moderator_edits_in_the_admin_follow_the_api_rules(client, make_user) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    movie_id = await make_movie(price="9.99")
    await open_admin_session(client, moderator.id)

    for changes, field in BAD_EDITS:
        response = await client.patch(
            f"/admin/api/tables/movies/{movie_id}/", json=changes, headers=csrf(client)
        )

        # 422, in a shape the admin UI lists: the field's errors, or the service's sentence.
        assert response.status_code == 422, (changes, response.text)
        body = response.json()
        if "custom_form_error" in body:
            assert field in body["custom_form_error"], body
        else:
            assert [e["loc"][-1] for e in body["detail"]] == [field], body
        row = await Movie.select(Movie.price, Movie.year, Movie.time, Movie.imdb, Movie.name).first().run()
        assert row is not None
        assert row["imdb"] == pytest.approx(8.3)  # REAL: float4 on PostgreSQL
        assert {**row, "imdb": 8.3} == {
            "price": Decimal("9.99"),
            "year": 1995,
            "time": 170,
            "imdb": 8.3,
            "name": "Heat",
        }


async def test_valid_admin_edits_still_save_and_names_are_checked_on_create(client, make_user) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    movie_id = await make_movie(price="9.99")
    await open_admin_session(client, moderator.id)

    ok = await client.patch(
        f"/admin/api/tables/movies/{movie_id}/",
        json={"price": "4.50", "year": 1996, "name": "  Heat 2  "},
        headers=csrf(client),
    )
    assert ok.status_code == 200, ok.text
    row = await Movie.select(Movie.price, Movie.year, Movie.name).where(Movie.id == movie_id).first().run()
    assert row == {"price": Decimal("4.50"), "year": 1996, "name": "Heat 2"}

    for table in ("genres", "stars", "directors", "certifications"):
        bad = await client.post(f"/admin/api/tables/{table}/", json={"name": "a\x00b"}, headers=csrf(client))
        assert bad.status_code == 422, (table, bad.text)
        long = await client.post(
            f"/admin/api/tables/{table}/", json={"name": "x" * 300}, headers=csrf(client)
        )
        assert long.status_code == 422, (table, long.text)
        created = await client.post(
            f"/admin/api/tables/{table}/", json={"name": " Fine "}, headers=csrf(client)
        )
        assert created.status_code == 201, (table, created.text)
    assert await Genre.select(Genre.name).run() == [{"name": "Fine"}]
