"""Error bodies: the contract's shape, and secrets never echoed back."""

from __future__ import annotations

from typing import Any

SECRET = "Sup3r$ecretValue"


async def test_422_for_a_list_body_does_not_echo_a_nested_password(client: Any) -> None:
    response = await client.post("/accounts/login", json=[{"email": "a@b.co", "password": SECRET}])
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert SECRET not in response.text


async def test_422_for_a_missing_field_does_not_echo_the_password(client: Any) -> None:
    response = await client.post(
        "/accounts/register", json={"password": SECRET, "nested": {"password": SECRET}}
    )
    assert response.status_code == 422
    assert SECRET not in response.text
