"""Bad input through the admin door is a 4xx, never a 500 (docs/admin.md).

Numbers past what a column holds reach the driver through piccolo_api's ids,
filters and paging; the admin answers them with a 400 like the API does.
Passwords follow the same rule in every door, control characters included.
"""

from __future__ import annotations

import pytest

from cinema.accounts import passwords
from cinema.accounts.actor import GroupName
from cinema.errors import ValidationFailed
from tests.ops.admin_helpers import csrf, open_admin_session

HUGE = [2**31, 2**63]


@pytest.mark.parametrize("value", HUGE)
async def test_numbers_past_a_column_are_a_400(client, make_user, value) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    await open_admin_session(client, admin.id)

    for path in (
        f"/admin/api/tables/movies/{value}/",
        f"/admin/api/tables/movies/?id={value}",
        f"/admin/api/tables/movies/?certification={value}",
        f"/admin/api/tables/users/?group={value}",
    ):
        response = await client.get(path)
        # No row can have such an id: an empty answer, a 404, or a 400 when the driver refuses it.
        assert response.status_code in (200, 400, 404), (path, response.status_code, response.text)
        if response.status_code == 400:
            assert response.json()["code"] == "out_of_range", response.text
        if response.status_code == 200:
            assert response.json()["rows"] == []

    patched = await client.patch(
        f"/admin/api/tables/users/{admin.id}/", json={"group": value}, headers=csrf(client)
    )
    assert 400 <= patched.status_code < 500, patched.text


async def test_a_negative_page_size_is_not_a_500(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    await open_admin_session(client, admin.id)

    response = await client.get("/admin/api/tables/movies/?__page_size=-5")

    assert 200 <= response.status_code < 500, response.text


@pytest.mark.parametrize("bad", ["Aa1!xxxx\x00yy", "Aa1!xxxx\x07yy"])
def test_control_characters_break_the_password_rules_in_every_door(bad) -> None:
    with pytest.raises(ValidationFailed) as refused:
        passwords.validate(bad)
    assert refused.value.code == "weak_password"
    assert "control characters" in refused.value.detail


async def test_the_admin_refuses_a_nul_password_with_the_rule(client, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    target = await make_user()
    await open_admin_session(client, admin.id)

    response = await client.patch(
        f"/admin/api/tables/users/{target.id}/", json={"password": "Aa1!xxxx\u0000yy"}, headers=csrf(client)
    )

    assert response.status_code == 422, response.text
    assert "control characters" in response.text
