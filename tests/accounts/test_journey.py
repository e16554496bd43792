"""The whole account journey through the API and the emails it sends (the outbox)."""

from __future__ import annotations

from tests.accounts.conftest import bearer, login, register, reset_token
from tests.conftest import STRONG_PASSWORD, text_of


async def test_the_whole_journey_through_the_outbox(client, outbox) -> None:
    """Register, activate from the mail, log in, refresh, /me, change password, reset it, log out."""
    email, first, second, third = "journey@example.com", STRONG_PASSWORD, "Chang3d!Pass", "R3set!Passw0rd"

    assert (await register(client, email, first)).status_code == 201
    [activation] = await outbox()
    link = text_of(activation).split("Activate my account: ")[1].split()[0]
    assert (await client.get(link.removeprefix("http://cinema.test"))).status_code == 200

    tokens = (await login(client, email, first)).json()
    tokens = (await client.post("/accounts/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
    me = await client.get("/accounts/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["is_active"] is True

    changed = await client.post(
        "/accounts/password/change",
        headers=bearer(tokens),
        json={"old_password": first, "new_password": second},
    )
    assert changed.status_code == 204

    await client.post("/accounts/password/forgot", json={"email": email})
    reset_mail = (await outbox())[-1]
    assert reset_mail["Subject"] == "Reset your Cinema password"
    reset = await client.post(
        "/accounts/password/reset",
        json={"email": email, "token": reset_token(reset_mail), "new_password": third},
    )
    assert reset.status_code == 204
    assert (await client.get("/accounts/me", headers=bearer(tokens))).status_code == 401  # all sessions ended

    assert (await login(client, email, second)).status_code == 401
    tokens = (await login(client, email, third)).json()
    out = await client.post(
        "/accounts/logout", headers=bearer(tokens), json={"refresh_token": tokens["refresh_token"]}
    )
    assert out.status_code == 204
    assert (await client.get("/accounts/me", headers=bearer(tokens))).status_code == 401
    subjects = [m["Subject"] for m in await outbox()]
    assert subjects == [
        "Activate your Cinema account",
        "Your Cinema password was changed",
        "Reset your Cinema password",
        "Your Cinema password was changed",
    ]
