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


async def test_nan_and_infinity_in_a_body_are_422_not_500(client: Any, make_user: Any) -> None:
    user = await make_user()
    for raw in (b'{"reaction": NaN}', b'{"reaction": Infinity}', b"1e999999", b"NaN"):
        response = await client.put(
            "/movies/1/reaction", content=raw, headers={**user.headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 422, raw
        assert response.json()["code"] == "validation_error"


async def test_a_lone_surrogate_in_text_is_422_not_500(client: Any) -> None:
    raw = b'{"email": "hi \\ud800", "password": "Str0ng!Passw0rd"}'
    response = await client.post(
        "/accounts/register", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
