"""How `cinema` fails: one red line and a stable exit code, a traceback only when asked.

Exit codes (README.md, "CLI"): 1 domain error, 2 usage error, 3 infrastructure
problem. Infrastructure cases run the real program in a process of its own
(fresh imports, real streams), on the engine the suite runs on.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.cli_support import cinema_process, flat, invoke_cli
from tests.conftest import IS_POSTGRES, TEST_DATABASE_URL, free_port

ID_RULE = "ids are whole numbers from 1 to 2147483647."


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: "), stderr
    return lines[0]


def _unreachable_database(tmp_path: Path) -> str:
    """A DATABASE_URL of the suite's engine that cannot be opened."""
    if IS_POSTGRES:
        return urlunsplit(
            urlsplit(TEST_DATABASE_URL)._replace(netloc=f"postgres:hunter2@127.0.0.1:{free_port()}")
        )
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    return f"sqlite:///{blocker}/cinema.sqlite"


def test_an_unreachable_database_is_one_line_and_exit_3(tmp_path: Path) -> None:
    url = _unreachable_database(tmp_path)

    result = cinema_process("users", "list", env={"DATABASE_URL": url})

    assert result.returncode == 3, result.stderr
    line = _one_error_line(result.stderr)
    assert "DATABASE_URL" in line
    assert "hunter2" not in result.stderr  # the password is never printed
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    url = _unreachable_database(tmp_path)

    flag = cinema_process("--debug", "users", "list", env={"DATABASE_URL": url})
    variable = cinema_process("users", "list", env={"DATABASE_URL": url, "CINEMA_DEBUG": "1"})

    for result in (flag, variable):
        assert result.returncode == 3, result.stderr
        assert "Traceback (most recent call last)" in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith("Error: ")


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A reachable database of the suite's engine without the Cinema schema."""
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_path}/empty.sqlite"
        return
    import asyncpg

    name = f"cinema_empty_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit(urlsplit(TEST_DATABASE_URL)._replace(path="/postgres"))

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def sync(sql: str) -> None:
        # A thread of its own: this fixture may run while the suite's loop is running.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, execute(sql)).result()

    sync(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(TEST_DATABASE_URL)._replace(path=f"/{name}"))
    finally:
        sync(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_an_unmigrated_database_says_to_migrate(empty_database: str) -> None:
    result = cinema_process("groups", "list", env={"DATABASE_URL": empty_database})

    assert result.returncode == 3, result.stderr
    line = _one_error_line(result.stderr)
    assert "has no Cinema schema" in line
    assert "Run `cinema db migrate`" in line


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ACCESS_TOKEN_TTL_MINUTES": "soon"}, "ACCESS_TOKEN_TTL_MINUTES"),
        # Whichever production rule it names first, it is one line about the settings.
        ({"ENVIRONMENT": "production", "JWT_SECRET_KEY": "short"}, "Invalid settings"),
        ({"DATABASE_URL": "mysql://db.example/cinema"}, "DATABASE_URL"),
    ],
)
def test_invalid_settings_are_one_line_and_help_still_works(env: dict[str, str], named: str) -> None:
    failed = cinema_process("users", "list", env=env)

    assert failed.returncode == 3, failed.stderr
    line = _one_error_line(failed.stderr)
    assert named in line
    assert "Traceback" not in failed.stderr

    for args in (["--help"], ["users", "--help"], ["users", "create", "--help"]):
        helped = cinema_process(*args, env=env)
        assert helped.returncode == 0, helped.stderr
        assert "Usage" in helped.stdout


def test_an_unexpected_error_is_one_line_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    from cinema.accounts import service

    async def broken() -> Any:
        raise RuntimeError("the service broke\nsecond line")

    monkeypatch.setattr(service, "list_groups", broken)

    quiet = invoke_cli("groups", "list")
    assert quiet.exit_code == 1
    assert quiet.stderr.strip() == (
        "Error: unexpected RuntimeError: the service broke. "
        "Run again with --debug (or CINEMA_DEBUG=1) for the traceback."
    )
    loud = invoke_cli("--debug", "groups", "list")
    assert loud.exit_code == 1
    assert "Traceback (most recent call last)" in loud.stderr
    assert 'raise RuntimeError("the service broke' in loud.stderr


@pytest.mark.parametrize("value", ["0", "-1", str(2**31)])
@pytest.mark.parametrize(
    "args",
    [
        ["movies", "show", "{id}"],
        ["movies", "update", "{id}", "--name", "X"],
        ["movies", "delete", "{id}", "--yes"],
        ["movies", "list", "--genre-id", "{id}"],
        ["orders", "show", "{id}"],
        ["orders", "cancel", "{id}"],
        ["orders", "list", "--user", "{id}"],
        ["payments", "show", "{id}"],
        ["payments", "list", "--user-id", "{id}"],
        ["refunds", "approve", "{id}"],
        ["refunds", "reject", "{id}", "--note", "no"],
        ["refunds", "list", "--user-id", "{id}"],
        ["carts", "show", "{id}"],
        ["carts", "add", "someone@example.com", "{id}"],
        ["carts", "remove", "someone@example.com", "{id}"],
    ],
)
def test_ids_out_of_range_are_usage_errors(args: list[str], value: str) -> None:
    result = invoke_cli(*(value if a == "{id}" else a for a in args))

    assert result.exit_code == 2, result.output
    assert f"{int(value)} is out of range: {ID_RULE}" in flat(result.stderr)
    assert "Traceback" not in result.output


def test_a_domain_error_is_one_line_with_its_code() -> None:
    result = invoke_cli("orders", "show", "424242")

    assert result.exit_code == 1
    assert _one_error_line(result.stderr).endswith("(order_not_found)")
    assert "Traceback" not in result.output
