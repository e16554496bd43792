"""A database that goes away: 503 `database_unavailable`, and recovery without a restart.

PostgreSQL is not stopped: the app (a real uvicorn process) reaches it through
a loopback TCP proxy that the test cuts (open connections dropped, new ones
refused) and restores. SQLite's "unable to open database file" is produced by
pointing DATABASE_URL at a directory.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from cinema.api.errors import database_unavailable_reason
from tests.conftest import TEST_DATABASE_URL
from tests.ops.conftest import wait_until


def _proxied(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{port}"))


def _target(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 5432


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_unavailable"
    assert response.headers["retry-after"] == "5"


def _request_lines(log: str) -> list[dict[str, object]]:
    lines = []
    for raw in log.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if line.get("logger") == "cinema.request":
            lines.append(line)
    return lines


@pytest.mark.postgres_only
async def test_postgres_outage_is_503_and_the_app_recovers_by_itself(make_user, serve, tcp_proxy) -> None:
    user = await make_user()
    basic = {"Authorization": "Basic " + base64.b64encode(f"{user.email}:{user.password}".encode()).decode()}
    proxy = tcp_proxy(*_target(TEST_DATABASE_URL))
    server = serve(DATABASE_URL=_proxied(TEST_DATABASE_URL, proxy.port))

    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        assert (await http.get("/ready")).status_code == 200
        assert (await http.delete("/accounts/me/avatar", headers=user.headers)).status_code == 204

        proxy.cut()
        for _ in range(3):
            _assert_unavailable(await http.delete("/accounts/me/avatar", headers=user.headers))
            _assert_unavailable(await http.get("/openapi.json", headers=basic))
        assert (await http.get("/health")).json() == {"status": "ok"}
        ready = await http.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["failed"] == ["database"]

        proxy.restore()

        async def recovered() -> bool:
            response = await http.delete("/accounts/me/avatar", headers=user.headers)
            return response.status_code == 204

        assert await wait_until(recovered, within=20, interval=0.5)
        assert (await http.get("/ready")).status_code == 200
        assert (await http.get("/openapi.json", headers=basic)).status_code == 200

    statuses = {line["status"] for line in _request_lines(server.log())}
    assert 503 in statuses
    assert 500 not in statuses


@pytest.mark.postgres_only
async def test_postgres_down_at_startup_then_up(make_user, serve, tcp_proxy) -> None:
    user = await make_user()
    proxy = tcp_proxy(*_target(TEST_DATABASE_URL))
    proxy.cut()
    server = serve(DATABASE_URL=_proxied(TEST_DATABASE_URL, proxy.port))
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        assert (await http.get("/health")).status_code == 200
        _assert_unavailable(await http.delete("/accounts/me/avatar", headers=user.headers))
        assert (await http.get("/ready")).status_code == 503

        proxy.restore()

        async def recovered() -> bool:
            return (await http.delete("/accounts/me/avatar", headers=user.headers)).status_code == 204

        assert await wait_until(recovered, within=20, interval=0.5)

        async def pool_open() -> bool:
            return "database pool open" in server.log()

        assert await wait_until(pool_open, within=40, interval=0.5)
    assert "database unreachable at startup" in server.log()


async def test_sqlite_file_that_cannot_be_opened_is_503(make_user, serve, tmp_path: Path) -> None:
    user = await make_user()
    not_a_file = tmp_path / "cinema.sqlite"
    not_a_file.mkdir()
    server = serve(DATABASE_URL=f"sqlite:///{not_a_file}")
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        _assert_unavailable(await http.delete("/accounts/me/avatar", headers=user.headers))
        ready = await http.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "failed"
        assert (await http.get("/health")).status_code == 200


def test_reasons_recognised_and_others_not(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError) as unopenable:
        sqlite3.connect(tmp_path)
    assert database_unavailable_reason(unopenable.value) == "sqlite_unopenable"

    with pytest.raises(sqlite3.OperationalError) as no_table:
        sqlite3.connect(":memory:").execute("SELECT * FROM missing")
    assert database_unavailable_reason(no_table.value) is None

    # An OSError outside the database driver (a file, SMTP, S3) is not the database.
    with pytest.raises(FileNotFoundError) as other:
        os.stat(tmp_path / "missing")
    assert database_unavailable_reason(other.value) is None


async def test_nul_characters_are_422_not_500(client) -> None:
    """PostgreSQL cannot store NUL in text; the request models refuse it first, on every engine."""
    response = await client.post("/accounts/activation/resend", json={"email": "\u00005@example.com"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "control_characters"
