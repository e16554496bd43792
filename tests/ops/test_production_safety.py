"""Production cannot run unsafe.

- Payments need a gateway chosen on purpose: the sandbox (which lets customers
  complete their own payments) only with `PAYMENT_GATEWAY=sandbox`, never in
  production; production without Stripe keys refuses to start, with one line,
  through the uvicorn factory and `cinema serve` alike.
- `/ready` answers 503 until every shipped migration is applied.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from pydantic import ValidationError

from cinema.config import Settings, get_settings, settings_error_line
from cinema.migrations import shipped_migrations
from tests.conftest import IS_POSTGRES, TEST_DATABASE_URL, free_port
from tests.ops.conftest import ROOT, Server, start_server, stop_server

SECRET = "production-secret-" + "x" * 40
SANDBOX_ROUTE = "/payments/{payment_id}/sandbox/{outcome}"


def settings(**values: Any) -> Settings:
    """Settings from `values` over an empty environment for the payment switches."""
    base: dict[str, Any] = {
        "jwt_secret_key": SECRET,
        "payment_gateway": None,
        "stripe_api_key": None,
        "stripe_webhook_secret": None,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


def refusal(**values: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        settings(**values)
    return settings_error_line(refused.value)


# --- the gateway choice --------------------------------------------------------------------------


def test_production_without_stripe_keys_is_refused_with_one_line() -> None:
    line = refusal(environment="production")

    assert line == (
        "Invalid settings: Production needs Stripe: set STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET "
        "(the sandbox gateway is for development only)."
    )
    # A key without the webhook secret would take money and never hear that it did.
    assert "STRIPE_WEBHOOK_SECRET" in refusal(environment="production", stripe_api_key="sk_live_x")


def test_production_refuses_the_sandbox_even_with_keys() -> None:
    line = refusal(
        environment="production",
        payment_gateway="sandbox",
        stripe_api_key="sk_live_x",
        stripe_webhook_secret="whsec_x",
    )

    assert "PAYMENT_GATEWAY=sandbox is refused in production" in line


def test_production_with_stripe_keys_pays_through_stripe() -> None:
    configured = settings(
        environment="production", stripe_api_key="sk_live_x", stripe_webhook_secret="whsec_x"
    )

    assert (configured.gateway, configured.uses_stripe, configured.uses_sandbox) == ("stripe", True, False)


def test_the_sandbox_is_never_a_silent_default() -> None:
    bare = settings(environment="development")
    chosen = settings(environment="development", payment_gateway="sandbox")

    assert (bare.gateway, bare.uses_sandbox) == (None, False)
    assert (chosen.gateway, chosen.uses_sandbox) == ("sandbox", True)
    assert "PAYMENT_GATEWAY=stripe needs STRIPE_API_KEY" in refusal(payment_gateway="stripe")


@pytest.fixture
def no_gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PAYMENT_GATEWAY")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
async def bare_client(no_gateway: None) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app built with no payment gateway configured (development)."""
    from cinema.api.app import create_app

    transport = httpx.ASGITransport(app=create_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_without_a_gateway_nothing_marks_payments_successful(
    bare_client: httpx.AsyncClient, make_user: Any
) -> None:
    from tests.ops.conftest import make_movie

    user = await make_user()
    movie_id = await make_movie()
    added = await bare_client.post("/cart/items", json={"movie_id": movie_id}, headers=user.headers)
    assert added.status_code == 201, added.text
    order = await bare_client.post("/orders", headers=user.headers)
    assert order.status_code == 201, order.text
    order_id = order.json()["order"]["id"]

    paid = await bare_client.post(f"/payments/{order_id}", headers=user.headers)
    sandbox = await bare_client.post("/payments/1/sandbox/succeed", headers=user.headers)
    canceled = await bare_client.patch(f"/orders/{order_id}/cancel", headers=user.headers)

    assert paid.status_code == 503
    assert paid.json()["code"] == "payments_not_configured"
    assert sandbox.status_code == 404  # not even mounted
    assert canceled.status_code == 200, canceled.text  # no intent to cancel: no gateway needed


def test_the_sandbox_routes_are_mounted_only_when_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    from cinema.api.app import create_app

    assert SANDBOX_ROUTE in create_app().openapi()["paths"]  # the suite chooses PAYMENT_GATEWAY=sandbox
    monkeypatch.delenv("PAYMENT_GATEWAY")
    get_settings.cache_clear()
    assert SANDBOX_ROUTE not in create_app().openapi()["paths"]


def test_the_demo_chooses_the_sandbox_by_name_unless_a_gateway_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cli.demo import _choose_sandbox_unless_configured

    monkeypatch.delenv("PAYMENT_GATEWAY")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_configured")
    get_settings.cache_clear()
    _choose_sandbox_unless_configured()
    assert "PAYMENT_GATEWAY" not in os.environ
    assert get_settings().gateway == "stripe"

    monkeypatch.delenv("STRIPE_API_KEY")
    get_settings.cache_clear()
    _choose_sandbox_unless_configured()
    assert os.environ["PAYMENT_GATEWAY"] == "sandbox"
    assert get_settings().uses_sandbox


def _production_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PAYMENT_GATEWAY", "STRIPE_API_KEY")}
    env.update({"ENVIRONMENT": "production", "JWT_SECRET_KEY": SECRET, "PYTHONUNBUFFERED": "1"})
    return env


def _one_line_refusal(output: str) -> None:
    assert "Traceback" not in output, output
    [line] = [text for text in output.splitlines() if "Invalid settings" in text]
    assert "Cinema cannot start. Invalid settings: Production needs Stripe" in line


def test_the_uvicorn_factory_refuses_production_without_stripe() -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "cinema.api.app:create_app",
            "--port",
            str(free_port()),
        ],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode != 0
    _one_line_refusal(done.stdout + done.stderr)


def test_cinema_serve_refuses_production_without_stripe() -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "cli.main", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 3
    _one_line_refusal(done.stderr)
    assert "Uvicorn running" not in done.stdout + done.stderr


# --- /ready and the migrations -------------------------------------------------------------------


@pytest.fixture
def fresh_schema_verdict() -> Iterator[None]:
    from cinema.api.routers.ops import forget_schema_verdict

    forget_schema_verdict()
    yield
    forget_schema_verdict()


async def test_ready_is_503_while_a_shipped_migration_is_not_applied(
    client: Any, fresh_schema_verdict: None
) -> None:
    from piccolo.apps.migrations.tables import Migration

    newest = max(shipped_migrations())
    [row] = await Migration.select().where(Migration.name == newest).run()
    await Migration.delete().where(Migration.name == newest).run()
    try:
        pending = await client.get("/ready")
    finally:
        await Migration.insert(Migration(**{k: v for k, v in row.items() if k != "id"})).run()
    migrated = await client.get("/ready")
    await Migration.delete().where(Migration.name == newest).run()
    try:
        remembered = await client.get("/ready")  # once ready, the verdict is kept (no more queries)
    finally:
        await Migration.insert(Migration(**{k: v for k, v in row.items() if k != "id"})).run()

    assert pending.status_code == 503
    assert pending.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "schema": "failed", "redis": "skipped"},
        "failed": ["schema"],
    }
    assert migrated.status_code == 200
    assert migrated.json()["checks"]["schema"] == "ok"
    assert remembered.status_code == 200


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database of the suite's engine with nothing in it (dropped afterwards on PostgreSQL)."""
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_path}/empty.sqlite"
        return
    import asyncpg  # type: ignore[import-untyped]

    parts = urlsplit(TEST_DATABASE_URL)
    name = parts.path.lstrip("/") + "_empty"
    admin_url = urlunsplit(parts._replace(path="/postgres"))

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield urlunsplit(parts._replace(path=f"/{name}"))
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def empty_server(empty_database_url: str, tmp_path: Path) -> Iterator[Server]:
    server = start_server(tmp_path, DATABASE_URL=empty_database_url)
    yield server
    stop_server(server)


def test_ready_is_503_on_an_empty_database_until_migrated(
    empty_server: Server, empty_database_url: str
) -> None:
    before = httpx.get(empty_server.url + "/ready", timeout=10)
    migrate = subprocess.run(
        [sys.executable, "-m", "cli.main", "db", "migrate"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": empty_database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    after = httpx.get(empty_server.url + "/ready", timeout=10)

    assert before.status_code == 503
    assert before.json()["failed"] == ["schema"]
    assert migrate.returncode == 0, migrate.stderr
    assert after.status_code == 200, after.text
    assert after.json()["checks"] == {"database": "ok", "schema": "ok", "redis": "skipped"}
