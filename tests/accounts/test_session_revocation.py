"""A session that ended stays ended, on both engines and in every door.

Each victim is a MODERATOR signed in twice: through the API (an access and a
refresh token) and into Piccolo Admin (the `id` cookie). Every event that
ends sessions (password change, reset, set by an ADMIN, deactivation, group
change, deletion), whichever door causes it (API, CLI, admin UI), must kill
all of them, and nothing brings them back: not the owner's next sign-in, not
an account created later under the same id (SQLite reuses ids), not
re-activating the account.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from cinema.accounts import management
from cinema.accounts.actor import OPERATOR, GroupName
from cinema.accounts.passwords import hash_password
from cinema.accounts.tables import AdminSession, RefreshToken, User, UserGroup
from cinema.interactions import erasure
from tests.accounts.conftest import bearer, login, reset_token
from tests.cli_support import in_cli_loop
from tests.conftest import STRONG_PASSWORD

NEW_PASSWORD = "N3w!Passw0rd-2"


@dataclass(frozen=True)
class Signed:
    """One person's live sessions: an API token pair and a Piccolo Admin cookie."""

    email: str
    access: str
    refresh: str
    admin_cookie: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


#: A client address per client: piccolo_api limits admin sign-ins to 20 per 5 minutes per
#: address, in the memory of the app, which lives as long as the test run.
_ADDRESSES = itertools.count(1)


def _client(app: Any, cookies: dict[str, str] | None = None) -> httpx.AsyncClient:
    n = next(_ADDRESSES)
    transport = httpx.ASGITransport(
        app=app, raise_app_exceptions=False, client=(f"10.9.{n // 250}.{n % 250}", 4000)
    )
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=cookies)


async def sign_in_everywhere(app: Any, email: str, password: str = STRONG_PASSWORD) -> Signed:
    """Sign in through the API and through the admin's login form (CSRF cookie + header)."""
    async with _client(app) as http:
        pair = await login(http, email, password)
        assert pair.status_code == 200, pair.text
        await http.get("/admin/")
        admin = await http.post(
            "/admin/public/login/",
            json={"username": email, "password": password},
            headers={"X-CSRFToken": http.cookies["csrftoken"]},
        )
        assert admin.status_code == 200, admin.text
        return Signed(email, pair.json()["access_token"], pair.json()["refresh_token"], http.cookies["id"])


async def admin_user(app: Any, signed: Signed) -> httpx.Response:
    """Who the admin cookie signs in as (GET /admin/api/user/): 200 with the user, or 401."""
    async with _client(app, {"id": signed.admin_cookie}) as http:
        return await http.get("/admin/api/user/")


async def alive(app: Any, signed: Signed) -> dict[str, bool]:
    """Which of the sessions still work. Uses up the refresh token when it works (rotation)."""
    async with _client(app) as http:
        access = (await http.get("/accounts/me", headers=signed.headers)).status_code
        refresh = (await http.post("/accounts/refresh", json={"refresh_token": signed.refresh})).status_code
    cookie = (await admin_user(app, signed)).status_code
    return {"access": access == 200, "refresh": refresh == 200, "admin_cookie": cookie == 200}


ALL_DEAD = {"access": False, "refresh": False, "admin_cookie": False}


async def _group_id(group: GroupName) -> int:
    row = await UserGroup.select(UserGroup.id).where(UserGroup.name == group.value).first().run()
    assert row is not None
    return int(row["id"])


async def create_staff(email: str, *, user_id: int | None = None) -> int:
    """An active MODERATOR; with `user_id`, under that id (what SQLite does by itself after a delete)."""
    row = User(
        email=email,
        username=email,
        password=await hash_password(STRONG_PASSWORD),
        active=True,
        group=await _group_id(GroupName.MODERATOR),
        admin=True,
        superuser=False,
    )
    if user_id is not None:
        row.id = user_id
    [inserted] = await User.insert(row).returning(User.id).run()
    return int(inserted["id"])


# --- ids handed out again -----------------------------------------------------------------


async def test_a_logged_out_token_does_not_revive_at_the_owners_next_login(client, make_user) -> None:
    user = await make_user()
    logged_out = await client.post(
        "/accounts/logout", headers=user.headers, json={"refresh_token": user.refresh_token}
    )
    assert logged_out.status_code == 204

    # The next session row takes the freed place (SQLite gives it the same id).
    again = (await login(client, user.email)).json()

    assert (await client.get("/accounts/me", headers=bearer(again))).status_code == 200
    assert (await client.get("/accounts/me", headers=user.headers)).status_code == 401
    refreshed = await client.post("/accounts/refresh", json={"refresh_token": user.refresh_token})
    assert refreshed.status_code == 401
    assert await RefreshToken.count().where(RefreshToken.user == user.id).run() == 1


async def test_a_deleted_users_tokens_do_not_answer_as_the_next_account(client, app) -> None:
    gone_id = await create_staff("gone@example.com")
    gone = await sign_in_everywhere(app, "gone@example.com")
    await erasure.delete_user(OPERATOR, gone_id)

    # The next account gets the same user id (and, on SQLite, the same session row ids).
    assert await create_staff("next@example.com", user_id=gone_id) == gone_id
    nxt = await sign_in_everywhere(app, "next@example.com")

    me = await client.get("/accounts/me", headers=gone.headers)
    assert me.status_code == 401, me.text
    assert "next@example.com" not in me.text
    assert (await admin_user(app, gone)).status_code == 401
    assert (await client.post("/accounts/refresh", json={"refresh_token": gone.refresh})).status_code == 401
    # The new account's own sessions work, as itself.
    assert (await client.get("/accounts/me", headers=nxt.headers)).json()["email"] == "next@example.com"
    assert (await admin_user(app, nxt)).json()["username"] == "next@example.com"


async def test_admin_sessions_are_deleted_with_their_user_whatever_deletes_it(app) -> None:
    """The foreign key's cascade: even a delete that bypasses the service leaves no cookie behind."""
    user_id = await create_staff("raw@example.com")
    signed = await sign_in_everywhere(app, "raw@example.com")
    assert await AdminSession.count().where(AdminSession.user_id == user_id).run() == 1

    await User.delete().where(User.id == user_id).run()

    assert await AdminSession.count().run() == 0
    await create_staff("heir@example.com", user_id=user_id)
    assert (await admin_user(app, signed)).status_code == 401


# --- every event, through the API and the services ---------------------------------------

Event = Callable[[httpx.AsyncClient, int, Signed, dict[str, str]], Awaitable[None]]


async def _admin_sets_password(
    client: httpx.AsyncClient, user_id: int, _: Signed, admin: dict[str, str]
) -> None:
    response = await client.put(
        f"/accounts/users/{user_id}/password", headers=admin, json={"password": NEW_PASSWORD}
    )
    assert response.status_code == 204, response.text


async def _deactivate(client: httpx.AsyncClient, user_id: int, _: Signed, admin: dict[str, str]) -> None:
    response = await client.post(f"/accounts/users/{user_id}/deactivate", headers=admin)
    assert response.status_code == 200, response.text


async def _group_change(client: httpx.AsyncClient, user_id: int, _: Signed, admin: dict[str, str]) -> None:
    # Promoted, not demoted: the admin cookie would still be allowed in by its group.
    response = await client.patch(f"/accounts/users/{user_id}/group", headers=admin, json={"group": "ADMIN"})
    assert response.status_code == 200, response.text


async def _delete(client: httpx.AsyncClient, user_id: int, _: Signed, admin: dict[str, str]) -> None:
    await erasure.delete_user(OPERATOR, user_id)


async def _set_password_service(
    client: httpx.AsyncClient, user_id: int, _: Signed, admin: dict[str, str]
) -> None:
    await management.set_password(OPERATOR, user_id, NEW_PASSWORD)


@pytest.mark.parametrize(
    "event",
    [_admin_sets_password, _deactivate, _group_change, _delete, _set_password_service],
    ids=[
        "admin-sets-password-api",
        "deactivation-api",
        "group-change-api",
        "deletion",
        "set-password-service",
    ],
)
async def test_each_event_ends_every_session_of_the_user(client, app, make_user, event: Event) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    bystander = await make_user(group=GroupName.MODERATOR)
    user_id = await create_staff("victim@example.com")
    first = await sign_in_everywhere(app, "victim@example.com")
    second = await sign_in_everywhere(app, "victim@example.com")

    await event(client, user_id, first, admin.headers)

    assert await alive(app, first) == ALL_DEAD
    assert await alive(app, second) == ALL_DEAD
    # Only this user's sessions ended.
    assert (await client.get("/accounts/me", headers=admin.headers)).status_code == 200
    assert (await client.get("/accounts/me", headers=bystander.headers)).status_code == 200


async def test_password_change_keeps_only_the_callers_api_session(client, app) -> None:
    await create_staff("victim@example.com")
    caller = await sign_in_everywhere(app, "victim@example.com")
    other = await sign_in_everywhere(app, "victim@example.com")

    response = await client.post(
        "/accounts/password/change",
        headers=caller.headers,
        json={"old_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 204, response.text
    assert await alive(app, other) == ALL_DEAD
    # The caller's admin cookie is another session: it ends too.
    assert await alive(app, caller) == {"access": True, "refresh": True, "admin_cookie": False}


async def test_password_reset_ends_every_session(client, app, outbox) -> None:
    await create_staff("victim@example.com")
    signed = await sign_in_everywhere(app, "victim@example.com")
    await client.post("/accounts/password/forgot", json={"email": "victim@example.com"})
    token = reset_token((await outbox())[0])

    response = await client.post(
        "/accounts/password/reset",
        json={"email": "victim@example.com", "token": token, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 204, response.text
    assert await alive(app, signed) == ALL_DEAD


async def test_the_admin_change_password_form_ends_the_api_sessions_too(client, app, outbox) -> None:
    """The admin's change-password page goes through the accounts service: every door's sessions end."""
    user_id = await create_staff("victim@example.com")
    signed = await sign_in_everywhere(app, "victim@example.com")
    async with _client(app, {"id": signed.admin_cookie}) as http:
        await http.get("/admin/")
        response = await http.post(
            "/admin/api/change-password/",
            json={
                "current_password": STRONG_PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_new_password": NEW_PASSWORD,
            },
            headers={"X-CSRFToken": http.cookies["csrftoken"]},
        )

    assert response.status_code == 200, response.text
    assert response.json()["detail"] == "Password changed. Sign in again with the new one."
    assert await alive(app, signed) == ALL_DEAD
    assert (await login(client, "victim@example.com", NEW_PASSWORD)).status_code == 200
    assert [m["Subject"] for m in await outbox()] == ["Your Cinema password was changed"]
    assert await User.exists().where(User.id == user_id).run()


async def test_reactivation_does_not_revive_old_sessions(client, app, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    user_id = await create_staff("victim@example.com")
    signed = await sign_in_everywhere(app, "victim@example.com")

    deactivated = await client.post(f"/accounts/users/{user_id}/deactivate", headers=admin.headers)
    assert deactivated.status_code == 200
    reactivated = await client.post(f"/accounts/users/{user_id}/activate", headers=admin.headers)
    assert reactivated.json()["is_active"] is True

    assert await alive(app, signed) == ALL_DEAD
    # A new sign-in works: the account is back, its old sessions are not.
    fresh = await sign_in_everywhere(app, "victim@example.com")
    assert await alive(app, fresh) == {"access": True, "refresh": True, "admin_cookie": True}


async def test_naming_the_current_group_ends_nothing(client, app, make_user) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    user_id = await create_staff("victim@example.com")
    signed = await sign_in_everywhere(app, "victim@example.com")

    response = await client.patch(
        f"/accounts/users/{user_id}/group", headers=admin.headers, json={"group": "MODERATOR"}
    )

    assert response.status_code == 200
    assert await alive(app, signed) == {"access": True, "refresh": True, "admin_cookie": True}


# --- the CLI door -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["set-password", "victim@example.com", "--password", NEW_PASSWORD],
        ["deactivate", "victim@example.com"],
        ["set-group", "victim@example.com", "ADMIN"],
        ["delete", "victim@example.com", "--yes"],
    ],
    ids=["set-password", "deactivate", "set-group", "delete"],
)
def test_each_cli_command_ends_every_session_of_the_user(cli_runner, app, command: list[str]) -> None:
    async def setup() -> Signed:
        await create_staff("victim@example.com")
        return await sign_in_everywhere(app, "victim@example.com")

    signed = in_cli_loop(setup)

    result = cli_runner("users", *command, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["email"] == "victim@example.com"
    assert in_cli_loop(lambda: alive(app, signed)) == ALL_DEAD


def test_cli_set_password_reads_stdin_and_follows_the_rules(cli_runner, app) -> None:
    async def setup() -> None:
        await create_staff("victim@example.com")

    in_cli_loop(setup)

    weak = cli_runner("users", "set-password", "victim@example.com", "--password", "short")
    assert weak.exit_code == 1
    assert "password" in weak.stderr

    prompted = cli_runner(
        "users", "set-password", "victim@example.com", "--password-stdin", input=f"{NEW_PASSWORD}\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert "their sessions have ended" in prompted.stdout

    async def signs_in_with_new_password() -> int:
        async with _client(app) as http:
            return (await login(http, "victim@example.com", NEW_PASSWORD)).status_code

    assert in_cli_loop(signs_in_with_new_password) == 200
