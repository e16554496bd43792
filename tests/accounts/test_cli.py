"""`cinema users`, `cinema groups`, `cinema tokens` on the test database.

Sync tests on purpose: `cli.common.run` starts its own event loop with
`asyncio.run()`, which cannot run inside the suite's (running) loop; see
`tests/accounts/conftest.py` for how the suite's PostgreSQL pool is parked
meanwhile. `in_cli_loop` runs setup and checks the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from cinema.accounts.tables import (
    ActivationToken,
    LoginFailure,
    MailRequest,
    PasswordResetToken,
    RefreshToken,
    User,
)
from cinema.clock import utcnow
from cinema.commerce.tables import Order
from tests.cli_support import in_cli_loop
from tests.conftest import STRONG_PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def _create(cli_runner, email: str, *extra: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = cli_runner("users", "create", "--email", email, "--password", STRONG_PASSWORD, *extra, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _flags(user_id: int) -> dict:  # type: ignore[type-arg]
    async def read() -> dict:  # type: ignore[type-arg]
        row = (
            await User.select(
                User.active.as_alias("active"), User.admin, User.superuser, User.group.name.as_alias("group")
            )
            .where(User.id == user_id)
            .first()
            .run()
        )
        assert row is not None
        return row

    return in_cli_loop(read)


def test_create_and_show(cli_runner) -> None:
    created = _create(cli_runner, "Ops@Example.com", "--group", "moderator", "--active")

    assert created["email"] == "ops@example.com"
    assert created["group"] == "MODERATOR"
    assert created["is_active"] is True
    assert "password" not in json.dumps(created)
    assert _flags(created["id"]) == {"active": True, "admin": True, "superuser": False, "group": "MODERATOR"}

    by_email = cli_runner("users", "show", "OPS@example.com", "--json")
    by_id = cli_runner("users", "show", str(created["id"]), "--json")
    assert by_email.exit_code == by_id.exit_code == 0
    assert json.loads(by_email.stdout) == json.loads(by_id.stdout) == created

    table = cli_runner("users", "show", str(created["id"]))
    assert table.exit_code == 0
    assert "ops@example.com" in table.stdout
    assert "Profile" in table.stdout

    plain = cli_runner("users", "create", "--email", "plain@example.com", "--password", STRONG_PASSWORD)
    assert plain.exit_code == 0
    assert "Created user" in plain.stdout
    assert "inactive" in plain.stdout


def test_create_prompts_for_the_password_when_omitted(cli_runner) -> None:
    result = cli_runner(
        "users",
        "create",
        "--email",
        "prompt@example.com",
        "--active",
        input=f"{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert STRONG_PASSWORD not in result.output  # hidden input


def test_create_errors_are_red_on_stderr_with_exit_1(cli_runner) -> None:
    weak = cli_runner("users", "create", "--email", "weak@example.com", "--password", "weakpass")
    assert weak.exit_code == 1
    assert "The password needs an upper-case letter" in weak.stderr
    assert "weakpass" not in weak.stderr
    assert weak.stdout == ""

    _create(cli_runner, "dup@example.com")
    duplicate = cli_runner("users", "create", "--email", "DUP@example.com", "--password", STRONG_PASSWORD)
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.stderr
    assert "email_taken" in duplicate.stderr

    bad_group = cli_runner(
        "users", "create", "--email", "g@example.com", "--password", STRONG_PASSWORD, "--group", "ROOT"
    )
    assert bad_group.exit_code == 2  # a usage error, reported by Typer


def test_list_with_filters(cli_runner) -> None:
    _create(cli_runner, "admin@example.com", "--group", "ADMIN", "--active")
    _create(cli_runner, "a1@films.example", "--active")
    _create(cli_runner, "a2@films.example")

    everyone = json.loads(cli_runner("users", "list", "--json").stdout)
    assert everyone["total"] == 3
    assert set(everyone) == {"items", "page", "per_page", "total", "pages"}
    films = json.loads(cli_runner("users", "list", "--email", "films", "--json").stdout)
    assert [u["email"] for u in films["items"]] == ["a1@films.example", "a2@films.example"]
    inactive = json.loads(cli_runner("users", "list", "--inactive", "--json").stdout)
    assert [u["email"] for u in inactive["items"]] == ["a2@films.example"]
    admins = json.loads(cli_runner("users", "list", "--group", "ADMIN", "--json").stdout)
    assert [u["email"] for u in admins["items"]] == ["admin@example.com"]
    paged = json.loads(cli_runner("users", "list", "--per-page", "2", "--page", "2", "--json").stdout)
    assert [u["email"] for u in paged["items"]] == ["a2@films.example"]

    table = cli_runner("users", "list")
    assert table.exit_code == 0
    assert "3 in all" in table.stdout


def test_activate_deactivate_and_set_group(cli_runner) -> None:
    _create(cli_runner, "boss@example.com", "--group", "ADMIN", "--active")
    user = _create(cli_runner, "pat@example.com")

    activated = cli_runner("users", "activate", "pat@example.com", "--json")
    assert activated.exit_code == 0
    assert json.loads(activated.stdout)["is_active"] is True
    assert _flags(user["id"])["active"] is True

    promoted = cli_runner("users", "set-group", str(user["id"]), "admin")
    assert promoted.exit_code == 0
    assert "is now ADMIN" in promoted.stdout
    assert _flags(user["id"]) == {"active": True, "admin": True, "superuser": True, "group": "ADMIN"}
    demoted = cli_runner("users", "set-group", "pat@example.com", "USER", "--json")
    assert json.loads(demoted.stdout)["group"] == "USER"
    assert _flags(user["id"]) == {"active": True, "admin": False, "superuser": False, "group": "USER"}

    deactivated = cli_runner("users", "deactivate", "pat@example.com")
    assert deactivated.exit_code == 0
    assert _flags(user["id"])["active"] is False

    last_admin = cli_runner("users", "deactivate", "boss@example.com")
    assert last_admin.exit_code == 1
    assert "last active ADMIN" in last_admin.stderr

    missing = cli_runner("users", "activate", "nobody@example.com")
    assert missing.exit_code == 1
    assert "No user" in missing.stderr


def test_delete_asks_unless_yes(cli_runner) -> None:
    user = _create(cli_runner, "gone@example.com")

    declined = cli_runner("users", "delete", "gone@example.com", input="n\n")
    assert declined.exit_code == 1
    assert "Aborted" in declined.output
    assert cli_runner("users", "show", "gone@example.com").exit_code == 0

    confirmed = cli_runner("users", "delete", "gone@example.com", input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert f"Deleted user #{user['id']}" in confirmed.stdout
    assert cli_runner("users", "show", "gone@example.com").exit_code == 1

    other = _create(cli_runner, "other@example.com")
    quiet = cli_runner("users", "delete", str(other["id"]), "--yes", "--json")
    assert quiet.exit_code == 0
    assert json.loads(quiet.stdout)["email"] == "other@example.com"


def test_a_user_with_orders_cannot_be_deleted(cli_runner) -> None:
    user = _create(cli_runner, "buyer@example.com", "--active")

    async def add_order() -> None:
        await Order(user=user["id"], total_amount="9.99").save()

    in_cli_loop(add_order)

    result = cli_runner("users", "delete", "buyer@example.com", "--yes")

    assert result.exit_code == 1
    assert "has orders or payments" in result.stderr
    assert "deactivate" in result.stderr
    assert "user_has_orders" in result.stderr
    assert cli_runner("users", "show", "buyer@example.com").exit_code == 0


def test_groups_list_with_counts(cli_runner) -> None:
    _create(cli_runner, "u1@example.com")
    _create(cli_runner, "u2@example.com")
    _create(cli_runner, "m1@example.com", "--group", "MODERATOR")

    result = cli_runner("groups", "list", "--json")

    assert result.exit_code == 0
    assert [(g["name"], g["users"]) for g in json.loads(result.stdout)] == [
        ("USER", 2),
        ("MODERATOR", 1),
        ("ADMIN", 0),
    ]
    table = cli_runner("groups", "list")
    assert "MODERATOR" in table.stdout


def test_tokens_purge_deletes_only_expired_rows(cli_runner) -> None:
    user = _create(cli_runner, "tok@example.com", "--active")
    now = utcnow()

    async def seed() -> None:
        await ActivationToken(user=user["id"], token="a" * 64, expires_at=now - timedelta(minutes=1)).save()
        await PasswordResetToken(user=user["id"], token="b" * 64, expires_at=now + timedelta(hours=1)).save()
        await RefreshToken(user=user["id"], token="c" * 64, expires_at=now - timedelta(days=1)).save()
        await RefreshToken(user=user["id"], token="d" * 64, expires_at=now + timedelta(days=1)).save()
        await LoginFailure(
            email="x@example.com", client_ip="10.0.0.1", created_at=now - timedelta(hours=1)
        ).save()
        await LoginFailure(email="x@example.com", client_ip="10.0.0.1", created_at=now).save()
        for age in (timedelta(hours=2), timedelta(minutes=1)):  # the window is 60 minutes
            await MailRequest(
                kind="password_reset", email="x@example.com", client_ip="10.0.0.1", created_at=now - age
            ).save()

    in_cli_loop(seed)

    result = cli_runner("tokens", "purge", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "activation_tokens": 1,
        "password_reset_tokens": 0,
        "refresh_tokens": 1,
        "login_failures": 1,
        "mail_requests": 1,
    }

    async def left() -> list[int]:
        return [
            await ActivationToken.count().run(),
            await PasswordResetToken.count().run(),
            await RefreshToken.count().run(),
            await LoginFailure.count().run(),
            await MailRequest.count().run(),
        ]

    assert in_cli_loop(left) == [0, 1, 1, 1, 1]
    again = cli_runner("tokens", "purge")
    assert again.exit_code == 0
    assert "activation_tokens" in again.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["users"],
        ["users", "list"],
        ["users", "show"],
        ["users", "create"],
        ["users", "activate"],
        ["users", "deactivate"],
        ["users", "set-group"],
        ["users", "delete"],
        ["groups"],
        ["groups", "list"],
        ["tokens"],
        ["tokens", "purge"],
    ],
)
def test_every_command_has_help(cli_runner, command: list[str]) -> None:
    result = cli_runner(*command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_the_installed_entry_point_runs_a_command() -> None:
    """The real `cinema` program in a process of its own, on the same database."""
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "groups", "list", "--json"],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [g["name"] for g in json.loads(result.stdout)] == ["USER", "MODERATOR", "ADMIN"]
