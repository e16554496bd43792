"""`cinema demo` and `cinema db migrate`: what the README's run command relies on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cinema.migrations import shipped_migrations
from tests.cli_support import flat, invoke_cli


def test_demo_refuses_a_busy_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = invoke_cli("demo", "--port", str(port))
    assert result.exit_code == 1
    assert "already in use" in result.stderr


def test_demo_keeps_credentials_only_once_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CINEMA_ADMIN_EMAIL", "boss@example.com")
    monkeypatch.setenv("CINEMA_ADMIN_PASSWORD", "weak")
    refused = invoke_cli("demo", "--no-serve")
    assert refused.exit_code == 1
    assert "weak_password" in refused.stderr
    assert not (tmp_path / "var" / "demo-credentials.json").exists()

    monkeypatch.setenv("CINEMA_ADMIN_PASSWORD", "Str0nger!Passw0rd")
    accepted = invoke_cli("demo", "--no-serve")
    assert accepted.exit_code == 0, accepted.stderr
    assert "sample catalog: 24 inserted" in accepted.stdout
    saved = json.loads((tmp_path / "var" / "demo-credentials.json").read_text())
    assert saved["ADMIN"] == {"email": "boss@example.com", "password": "Str0nger!Passw0rd"}

    again = invoke_cli("demo", "--no-serve")
    assert again.exit_code == 0, again.stderr
    assert "24 movies already in the catalog" in again.stdout


def test_demo_checks_the_staff_emails_by_the_account_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CINEMA_MODERATOR_EMAIL", "mod@localhost")

    refused = invoke_cli("demo", "--no-serve")

    assert refused.exit_code == 2
    assert "CINEMA_MODERATOR_EMAIL: value is not a valid email address" in flat(refused.stderr)
    assert not (tmp_path / "var" / "demo-credentials.json").exists()


def _cinema(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter, fixed module, test arguments
        [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, check=False
    )


def test_migrate_reports_and_an_unmigrated_database_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/fresh.sqlite"}
    unmigrated = _cinema(env, "users", "list")
    assert unmigrated.returncode == 3  # an infrastructure problem (README.md, "CLI")
    assert "no Cinema schema" in unmigrated.stderr
    assert "Traceback" not in unmigrated.stderr

    first = _cinema(env, "db", "migrate")
    assert first.returncode == 0, first.stderr
    assert f"Applied {len(shipped_migrations())} migration(s)" in first.stdout
    second = _cinema(env, "db", "migrate")
    assert second.stdout.strip() == "Database is up to date."
