"""The docs' HTTP Basic guard checks passwords under the same failed-sign-in limits as login."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter

from cinema.accounts.tables import LoginFailure


def basic(email: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


async def test_wrong_basic_passwords_count_and_lock_the_account(client, make_user, monkeypatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    user = await make_user(email="docsguess@example.com")

    codes = [
        (await client.get("/docs", headers=basic(user.email, f"Wr0ng!Guess{n}"))).status_code
        for n in range(2)
    ]
    locked_docs = await client.get("/openapi.json", headers=basic(user.email, user.password))
    locked_login = await client.post("/accounts/login", json={"email": user.email, "password": user.password})

    assert codes == [401, 401]
    assert await LoginFailure.count().where(LoginFailure.email == user.email).run() == 2
    assert locked_docs.status_code == 429
    assert int(locked_docs.headers["retry-after"]) > 0
    assert locked_login.status_code == 429


async def test_login_failures_lock_the_docs_too_even_in_a_burst(client, make_user, monkeypatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    user = await make_user(email="docsburst@example.com")

    burst = await asyncio.gather(
        *(client.get("/docs", headers=basic(user.email, f"Wr0ng!Guess{n}")) for n in range(20))
    )
    right = await client.get("/docs", headers=basic(user.email, user.password))

    assert Counter(r.status_code for r in burst) == {401: 3, 429: 17}
    assert right.status_code == 429


async def test_a_right_basic_password_clears_earlier_failures(client, make_user, monkeypatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    user = await make_user(email="docsok@example.com")

    assert (await client.get("/docs", headers=basic(user.email, "Wr0ng!Guess1"))).status_code == 401
    assert (await client.get("/docs", headers=basic(user.email, user.password))).status_code == 200
    assert await LoginFailure.count().where(LoginFailure.email == user.email).run() == 0
