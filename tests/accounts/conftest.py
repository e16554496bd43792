"""Accounts test helpers: sign-up through the real API, tokens read from the real emails, and the CLI.

CLI tests use tests/cli_support.py (why they are sync tests, and the parked pool).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any, TypeVar

import httpx
import pytest

from tests.cli_support import invoke_cli
from tests.conftest import STRONG_PASSWORD, text_of

T = TypeVar("T")

TOKEN_IN_LINK = re.compile(r"[?&]token=([A-Za-z0-9_\-]+)")
RESET_TOKEN = re.compile(r"hour\(s\): ([A-Za-z0-9_\-]+)")


def activation_token(message: EmailMessage) -> str:
    """The token in an activation email's link."""
    found = TOKEN_IN_LINK.search(text_of(message))
    assert found, text_of(message)
    return found.group(1)


def reset_token(message: EmailMessage) -> str:
    found = RESET_TOKEN.search(text_of(message))
    assert found, text_of(message)
    return found.group(1)


async def register(
    client: httpx.AsyncClient, email: str, password: str = STRONG_PASSWORD, **extra: Any
) -> httpx.Response:
    return await client.post("/accounts/register", json={"email": email, "password": password, **extra})


async def login(
    client: httpx.AsyncClient, email: str, password: str = STRONG_PASSWORD, **extra: Any
) -> httpx.Response:
    return await client.post("/accounts/login", json={"email": email, "password": password, **extra})


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
def signup(
    client: httpx.AsyncClient, outbox: Callable[[], Awaitable[list[EmailMessage]]]
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """`await signup(email)`: register, activate with the emailed token, log in; returns the token pair."""

    async def run(email: str, password: str = STRONG_PASSWORD) -> dict[str, Any]:
        response = await register(client, email, password)
        assert response.status_code == 201, response.text
        mails = [m for m in await outbox() if m["To"] == email.lower()]
        activated = await client.post(
            "/accounts/activate", json={"email": email, "token": activation_token(mails[-1])}
        )
        assert activated.status_code == 200, activated.text
        tokens = await login(client, email, password)
        assert tokens.status_code == 200, tokens.text
        body: dict[str, Any] = tokens.json()
        return body

    return run


@pytest.fixture
def cli_runner() -> Callable[..., Any]:
    """`cli_runner("users", "list", "--json")` -> click `Result` (see tests/cli_support.py)."""
    return invoke_cli
