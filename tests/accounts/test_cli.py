"""`cinema users`, `cinema groups`, `cinema tokens` on the test database.

Sync tests on purpose: `cli.common.run` starts its own event loop with
`asyncio.run()`, which cannot run inside the suite's (running) loop; see
`tests/accounts/conftest.py` for how the suite's PostgreSQL pool is parked
meanwhile. `in_cli_loop` runs setup and checks the same way.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from cinema.accounts.errors import WeakPassword
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
from tests.accounts.conftest import register
from tests.cli_support import ROOT, flat, in_cli_loop, invoke_cli
from tests.conftest import STRONG_PASSWORD


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


def _password_matches(email: str, password: str) -> bool:
    async def check() -> bool:
        user = await User.objects().where(User.email == email).first().run()
        assert user is not None, f"no user {email}"
        return await user.check_password(password)

    return in_cli_loop(check)


def test_create_prompts_twice_with_hidden_input_on_a_terminal() -> None:
    """Without a password option, a terminal is asked (hidden, with confirmation)."""
    master, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "users", "create", "--email", "tty@example.com", "--active"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        # No controlling terminal: getpass reads this pty, never the developer's /dev/tty.
        start_new_session=True,
    )
    os.close(terminal)
    seen = bytearray()

    def read_until(marker: bytes) -> None:
        deadline = time.monotonic() + 60
        while marker not in seen:
            assert time.monotonic() < deadline, f"no {marker!r} in {bytes(seen)!r}"
            if select.select([master], [], [], 1)[0]:
                try:
                    chunk = os.read(master, 1024)
                except OSError:  # EIO: the program ended
                    chunk = b""
                assert chunk, f"ended before {marker!r}: {bytes(seen)!r}"
                seen.extend(chunk)

    try:
        read_until(b"Password: ")
        os.write(master, STRONG_PASSWORD.encode() + b"\n")
        read_until(b"Repeat for confirmation: ")
        os.write(master, STRONG_PASSWORD.encode() + b"\n")
        read_until(b"Created user")
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        process.wait()
        os.close(master)
    assert STRONG_PASSWORD.encode() not in seen  # never echoed
    assert _password_matches("tty@example.com", STRONG_PASSWORD)


def test_password_from_stdin(cli_runner) -> None:
    created = cli_runner(
        "users",
        "create",
        "--email",
        "script@example.com",
        "--password-stdin",
        "--json",
        input=f"{STRONG_PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["email"] == "script@example.com"
    assert STRONG_PASSWORD not in created.output
    assert _password_matches("script@example.com", STRONG_PASSWORD)

    # Only the line break goes: a Windows one too, but never the password's own spaces.
    crlf = cli_runner(
        "users", "create", "--email", "crlf@example.com", "--password-stdin", input=f" {STRONG_PASSWORD}\r\n"
    )
    assert crlf.exit_code == 0, crlf.output
    assert _password_matches("crlf@example.com", f" {STRONG_PASSWORD}")

    empty = cli_runner("users", "create", "--email", "empty@example.com", "--password-stdin", input="")
    assert empty.exit_code == 2
    assert "standard input held no password" in flat(empty.stderr)
    both = cli_runner(
        "users",
        "create",
        "--email",
        "both@example.com",
        "--password",
        STRONG_PASSWORD,
        "--password-stdin",
        input=f"{STRONG_PASSWORD}\n",
    )
    assert both.exit_code == 2
    assert "not both" in flat(both.stderr)
    assert json.loads(cli_runner("users", "list", "--json").stdout)["total"] == 2


def test_a_missing_password_without_a_terminal_fails_at_once() -> None:
    """Input that stays open but is no terminal: a usage error now, not a wait forever."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "users", "create", "--email", "nopass@example.com"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        start_new_session=True,  # no /dev/tty to fall back on
        text=True,
    )
    try:
        code = process.wait(timeout=60)
    finally:
        process.kill()
    assert process.stderr is not None
    stderr = process.stderr.read()
    process.communicate()  # closes the pipes
    assert code == 2
    assert "no terminal to ask for it. Pipe it in with --password-stdin." in flat(stderr)
    assert "Traceback" not in stderr
    assert in_cli_loop(lambda: User.count().run()) == 0


def test_create_errors_are_red_on_stderr_with_exit_1(cli_runner) -> None:
    weak = cli_runner("users", "create", "--email", "weak@example.com", "--password", "weakpass")
    assert weak.exit_code == 1
    # The API's sentence, then the rules this password breaks.
    assert flat(weak.stderr) == (
        f"Error: {WeakPassword.default_detail} (weak_password; problems: needs an upper-case letter, "
        "needs a digit, needs a symbol)"
    )
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


BAD_EMAILS = ["not-an-email", "ann@", "ann@localhost", "two@signs@example.com", "ann@exa mple.com"]


async def test_a_bad_email_is_refused_with_the_apis_sentence(client) -> None:
    """One rule for an account's email: the CLI refuses what registration refuses, in the same words."""
    for email in BAD_EMAILS:
        api = await register(client, email)
        assert api.status_code == 422, email
        [error] = api.json()["detail"]
        assert error["loc"] == ["body", "email"]
        sentence = error["msg"]
        assert sentence.startswith("value is not a valid email address: ")

        created = invoke_cli("users", "create", "--email", email, "--password", STRONG_PASSWORD)
        assert created.exit_code == 2, (email, created.output)
        assert sentence in flat(created.stderr)
        assert "Traceback" not in created.output
        # Where a user may be named by email, the same rule and words.
        for command in (
            ("users", "show", email),
            ("carts", "show", email),
            ("orders", "list", "--user", email),
        ):
            named = invoke_cli(*command)
            assert named.exit_code == 2, (command, named.output)
            assert sentence in flat(named.stderr)
    assert await User.count().run() == 0


async def test_private_mail_domains_are_accounts_in_every_door(client) -> None:
    """`.local` and `.test` (the demo's staff accounts) register through the API as through the CLI."""
    for email in ("dev@cinema.local", "qa@films.test"):
        response = await register(client, email)
        assert response.status_code == 201, response.text
        assert response.json()["email"] == email


def test_the_cli_creates_and_finds_private_domain_accounts(cli_runner) -> None:
    created = _create(cli_runner, "Ops@Cinema.Local", "--active")
    assert created["email"] == "ops@cinema.local"
    found = cli_runner("users", "show", "ops@cinema.local", "--json")
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["id"] == created["id"]
    assert _create(cli_runner, "qa@films.test")["email"] == "qa@films.test"


@pytest.mark.parametrize("user", ["0", "-1", str(2**31), "99999999999999999999"])
@pytest.mark.parametrize(
    "command", [("show",), ("activate",), ("delete", "--yes"), ("set-group", "{user}", "USER")]
)
def test_a_user_id_out_of_range_is_refused_clearly(cli_runner, command: tuple[str, ...], user: str) -> None:
    args = [user if part == "{user}" else part for part in command]
    if "{user}" not in command:
        args.insert(1, user)
    result = cli_runner("users", *args)
    assert result.exit_code == 2, result.output
    assert f"{int(user)} is out of range: ids are whole numbers from 1 to 2147483647." in flat(result.stderr)
    assert "Traceback" not in result.output


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
    assert flat(missing.stderr) == "Error: The user does not exist. (user_not_found)"


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
        for key, token, expires_at in [
            ("c", "c" * 64, now - timedelta(days=1)),
            ("d", "d" * 64, now + timedelta(days=1)),
        ]:
            await RefreshToken(
                user=user["id"], session_key=key * 43, token=token, expires_at=expires_at
            ).save()
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
