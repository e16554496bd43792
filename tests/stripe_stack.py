"""A real Stripe emulator and the app configured for it, for end-to-end tests.

`run_stripe_stack()` starts `localstripe --port <free> --from-scratch` and the
app under uvicorn (on the test database; SQLite shares the file) with
STRIPE_API_KEY, STRIPE_API_BASE (localstripe) and STRIPE_WEBHOOK_SECRET, and
SMTP pointed at an aiosmtpd sink on loopback. localstripe is told the app's
webhook URL and secret (`POST /_config/webhooks/<id>`), so it signs and
delivers real events. Used by tests/commerce/test_stripe_e2e.py and the admin
browser test (tests/ops/test_admin_browser.py).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import stripe

from tests.commerce.payments_helpers import WEBHOOK_SECRET
from tests.conftest import free_port

STRIPE_KEY = "sk_test_cinema_e2e"
#: Generous: under load (CI on two cores) an app and localstripe can take long to import and bind.
STARTUP_SECONDS = 90.0
WEBHOOK_SECONDS = 15.0


@dataclass
class SmtpInbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def wait_for(self, count: int, seconds: float = WEBHOOK_SECONDS) -> list[EmailMessage]:
        """The messages once `count` have arrived (or after `seconds`, for the assertion to show)."""
        deadline = time.monotonic() + seconds
        # Polling: the messages arrive on the SMTP server's thread, from another process.
        while len(self.messages) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return list(self.messages)


@dataclass
class StripeStack:
    """The running emulator, app and mail sink."""

    stripe_base: str
    app_base: str
    inbox: SmtpInbox

    def stripe(self) -> stripe.StripeClient:
        """A Stripe client on the emulator, for the test's browser role."""
        return stripe.StripeClient(
            STRIPE_KEY, base_addresses={"api": self.stripe_base}, http_client=stripe.HTTPXClient()
        )


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited early:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(url, timeout=1, headers={"Authorization": f"Bearer {STRIPE_KEY}"})
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def run_stripe_stack(log_prefix: str = "cinema-stripe-") -> Iterator[StripeStack]:
    """Start localstripe, the app (on the test database, Stripe and SMTP set) and a mail sink; stop them after."""
    from aiosmtpd.controller import Controller

    logs = Path(tempfile.mkdtemp(prefix=log_prefix))
    inbox = SmtpInbox()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            inbox.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
            return "250 OK"

    smtp_port = free_port()
    smtp = Controller(Handler(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()

    stripe_port = free_port()
    sibling = Path(sys.executable).with_name("localstripe")
    localstripe_bin = sibling if sibling.exists() else Path(shutil.which("localstripe") or "localstripe")
    emulator = _start(
        [str(localstripe_bin), "--port", str(stripe_port), "--from-scratch"],
        dict(os.environ),
        logs / "localstripe.log",
    )
    stripe_base = f"http://127.0.0.1:{stripe_port}"
    app_port = free_port()
    app_base = f"http://127.0.0.1:{app_port}"
    env = {
        **os.environ,
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "STRIPE_API_KEY": STRIPE_KEY,
        "PAYMENT_GATEWAY": "stripe",
        "STRIPE_API_BASE": stripe_base,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
    }
    app = _start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "cinema.api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(app_port),
            "--log-level",
            "warning",
        ],
        env,
        logs / "app.log",
    )
    try:
        _wait_until_up(f"{stripe_base}/v1/customers", emulator, logs / "localstripe.log")
        _wait_until_up(f"{app_base}/health", app, logs / "app.log")
        registered = httpx.post(
            f"{stripe_base}/_config/webhooks/cinema",
            data={"url": f"{app_base}/webhooks/stripe", "secret": WEBHOOK_SECRET},
            timeout=5,
        )
        registered.raise_for_status()
        yield StripeStack(stripe_base, app_base, inbox)
    finally:
        _stop(app)
        _stop(emulator)
        smtp.stop()


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, seconds: float = WEBHOOK_SECONDS
) -> None:
    """Poll `check` (the database, written by the app subprocess) until it holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def confirm(stack: StripeStack, intent_id: str, payment_method: str) -> Any:
    """What the browser does with the client_secret: attach a payment method, then confirm."""
    client = stack.stripe()
    await client.v1.payment_intents.update_async(intent_id, {"payment_method": payment_method})
    return await client.v1.payment_intents.confirm_async(intent_id)
