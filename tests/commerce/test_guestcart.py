"""The guest cart through the real front doors: `cart_movie_ids` at register and login."""

from __future__ import annotations

from typing import Any

from tests.commerce.conftest import cart_movie_ids
from tests.conftest import STRONG_PASSWORD


async def test_login_merges_guest_cart(
    client: Any, make_user: Any, make_movie: Any, fill_cart: Any, make_purchase: Any
) -> None:
    user = await make_user()
    kept, bought, new = [await make_movie(price="4.00") for _ in range(3)]
    await fill_cart(user.id, [kept.id])
    await make_purchase(user.id, bought.id)

    response = await client.post(
        "/accounts/login",
        json={
            "email": user.email,
            "password": user.password,
            "cart_movie_ids": [kept.id, bought.id, new.id, 777777],
        },
    )
    assert response.status_code == 200, response.text
    assert await cart_movie_ids(user.id) == sorted([kept.id, new.id])
    cart = (
        await client.get("/cart", headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    ).json()
    assert cart["total"] == "8.00"


async def test_register_merges_guest_cart(client: Any, make_movie: Any) -> None:
    a, b = await make_movie(), await make_movie()
    response = await client.post(
        "/accounts/register",
        json={
            "email": "guest@example.com",
            "password": STRONG_PASSWORD,
            "cart_movie_ids": [b.id, a.id, 123456],
        },
    )
    assert response.status_code == 201, response.text
    assert await cart_movie_ids(response.json()["id"]) == sorted([a.id, b.id])
