"""Test harness: one database per run, emptied between tests, and helpers.

Engine: `TEST_DATABASE_URL` (a PostgreSQL URL; the database is dropped and
created fresh) or, unset, a temporary SQLite file. `.ci/run` runs the suite
once each way. Tests needing Redis use `REDIS_TEST_URL` (default
redis://127.0.0.1:6379/15) and skip when it does not answer, unless
`CINEMA_REQUIRE_SERVICES=1` (CI), where they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="cinema-tests-"))
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP}/test.sqlite"

os.environ.update(
    {
        "CINEMA_ENV_FILE": "",
        "ENVIRONMENT": "test",
        "DATABASE_URL": TEST_DATABASE_URL,
        "PASSWORD_HASH_ROUNDS": "4",
        "MAIL_OUTBOX_DIR": str(_TMP / "outbox"),
        "MEDIA_DIR": str(_TMP / "media"),
        "PUBLIC_BASE_URL": "http://cinema.test",
        "JWT_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        # Chosen by name, as the sandbox must be; tests of Stripe set PAYMENT_GATEWAY=stripe.
        "PAYMENT_GATEWAY": "sandbox",
    }
)
for _var in (
    "REDIS_URL",
    "SMTP_HOST",
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "S3_ENDPOINT_URL",
):
    os.environ.pop(_var, None)

IS_POSTGRES = TEST_DATABASE_URL.startswith("postgres")
REQUIRE_SERVICES = os.environ.get("CINEMA_REQUIRE_SERVICES") == "1"
STRONG_PASSWORD = "Str0ng!Passw0rd"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IMDB_CSV = Path(os.environ.get("IMDB_CSV", SHARED_DATA / "imdb_top_1000.csv"))


def _recreate_postgres_database(url: str, *, create: bool = True) -> None:
    """Drop the test database (and create it afresh unless `create` is False)."""
    import asyncpg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))

    async def recreate() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(recreate())


if IS_POSTGRES:
    _recreate_postgres_database(TEST_DATABASE_URL)

# Imported only now: the engine is built from DATABASE_URL at import.
from cinema.accounts import sessions  # noqa: E402
from cinema.accounts.actor import CurrentUser, GroupName  # noqa: E402
from cinema.accounts.tables import User, UserGroup  # noqa: E402
from cinema.config import get_settings  # noqa: E402
from cinema.db import close_pool, engine, open_pool  # noqa: E402
from cinema.migrations import migrate  # noqa: E402
from cinema.piccolo_app import TABLES  # noqa: E402
from cinema.tasks import broker  # noqa: E402

get_settings.cache_clear()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the PostgreSQL test database the run created (each CI run names its own);
    `KEEP_TEST_DATABASE=1` keeps it for a look after a failure."""
    if IS_POSTGRES and os.environ.get("KEEP_TEST_DATABASE") != "1":
        _recreate_postgres_database(TEST_DATABASE_URL, create=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
async def database() -> AsyncIterator[None]:
    """Migrate once per run; the pool and the in-process broker stay open."""
    await migrate()
    await open_pool()
    await broker.startup()
    yield
    await broker.shutdown()
    await close_pool()


_KEEP = {UserGroup._meta.tablename}


@pytest.fixture(autouse=True)
async def clean_database(database: None) -> AsyncIterator[None]:
    """Empty every table but the seeded groups after each test."""
    yield
    await broker.wait_all()
    names = [t._meta.tablename for t in TABLES if t._meta.tablename not in _KEEP]
    if IS_POSTGRES:
        await engine().run_ddl("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE")
    else:
        # Children first: TABLES lists parents before the tables that point at them.
        for name in reversed(names):
            await engine().run_ddl(f'DELETE FROM "{name}"')


@pytest.fixture(autouse=True)
def fresh_settings() -> Any:
    """Settings re-read for each test, so a test may change the environment with monkeypatch."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def app() -> Any:
    from cinema.api.app import create_app

    return create_app()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[Any]:
    """An httpx client calling the app in-process (lifespan work is done by `database`)."""
    import httpx

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass
class AccountHandle:
    """A user created for a test, with a live session's Bearer headers."""

    id: int
    email: str
    password: str
    group: GroupName
    headers: dict[str, str]
    refresh_token: str

    @property
    def actor(self) -> CurrentUser:
        """This user as the `actor` a service takes (for tests that call services directly)."""
        return CurrentUser(id=self.id, email=self.email, group=self.group, session_id="")


async def _group_id(group: GroupName) -> int:
    row = await UserGroup.select(UserGroup.id).where(UserGroup.name == group.value).first().run()
    assert row is not None
    return int(row["id"])


@pytest.fixture
def make_user() -> Callable[..., Awaitable[AccountHandle]]:
    """Factory: `await make_user(group=GroupName.ADMIN, active=True, email=None)`."""
    counter = {"n": 0}

    async def make(
        email: str | None = None,
        password: str = STRONG_PASSWORD,
        group: GroupName = GroupName.USER,
        active: bool = True,
    ) -> AccountHandle:
        counter["n"] += 1
        email = email or f"{group.value.lower()}{counter['n']}@example.com"
        staff = group is not GroupName.USER
        user = await User.create(
            email,
            password,
            await _group_id(group),
            active=active,
            admin=staff,
            superuser=group is GroupName.ADMIN,
        )
        pair = await sessions.open_session(int(user.id))
        return AccountHandle(
            id=int(user.id),
            email=User.normalize_email(email),
            password=password,
            group=group,
            headers={"Authorization": f"Bearer {pair.access_token}"},
            refresh_token=pair.refresh_token,
        )

    return make


@pytest.fixture
async def outbox() -> Callable[[], Awaitable[list[EmailMessage]]]:
    """`await outbox()` waits for queued tasks and returns the `.eml` files written, oldest first."""

    async def read() -> list[EmailMessage]:
        await broker.wait_all()
        folder = get_settings().mail_outbox_dir
        files = sorted(folder.glob("*.eml")) if folder.exists() else []
        return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]  # type: ignore[misc]

    folder = get_settings().mail_outbox_dir
    if folder.exists():
        for f in folder.glob("*.eml"):
            f.unlink()
    return read


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpSink:
    """Messages received by a real SMTP server (aiosmtpd) on loopback."""

    messages: list[EmailMessage]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        await broker.wait_all()
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.messages) < count and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp_sink(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Start aiosmtpd on a free port and point `SMTP_HOST`/`SMTP_PORT` at it."""
    from aiosmtpd.controller import Controller

    received: list[EmailMessage] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    get_settings.cache_clear()
    yield SmtpSink(received)
    controller.stop()


def redis_url_or_skip() -> str:
    """The test Redis URL; skips (or fails under CINEMA_REQUIRE_SERVICES=1) when it is down."""
    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1).close()
    except OSError:
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis is required but not reachable at {url}")
        pytest.skip(f"Redis not reachable at {url}")
    return url


def text_of(message: EmailMessage) -> str:
    """The plain-text body of a message."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())
