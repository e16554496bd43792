"""A worker killed with SIGKILL in the middle of sending a mail does not lose it.

Real pieces only: Redis (a database of this suite's own), the Redis stream
broker, `taskiq worker cinema.tasks:broker` as a subprocess, and an aiosmtpd
server on loopback. The SMTP server stalls on the first message (the worker
is then waiting for the answer to DATA), the worker's whole process group is
killed with SIGKILL, the server stops stalling, a fresh worker starts, and the
mail arrives once `TASK_REDELIVERY_SECONDS` (3 s here) has passed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import free_port, redis_url_or_skip
from tests.ops.conftest import ROOT, wait_until

pytestmark = pytest.mark.redis

#: This suite's own Redis database number (others use theirs).
OPS_REDIS_DB = 11


class StallingSink:
    """aiosmtpd handler: the first DATA hangs until `release()`; later ones are accepted and kept."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.stalled = threading.Event()
        self._released = threading.Event()
        self._count = 0

    def release(self) -> None:
        self._released.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self._count += 1
        if self._count == 1:
            self.stalled.set()
            await asyncio.to_thread(self._released.wait)
            return "451 Try again later"  # the client is gone by now anyway
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def _own_db(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{OPS_REDIS_DB}"))


def _start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "taskiq", "worker", "cinema.tasks:broker", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the kill takes the child too
        )


def _kill_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Send `sig` to the worker's process group and reap it; a graceful stop that
    outlasts 15 s (a loaded CI machine) ends with SIGKILL instead of failing the test."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


async def test_mail_survives_a_worker_killed_mid_send(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller
    from redis.asyncio import Redis
    from taskiq.kicker import AsyncKicker

    from cinema.jobs import _reclaiming_stream_broker

    redis_url = _own_db(redis_url_or_skip())
    redis = Redis.from_url(redis_url)
    await redis.flushdb()

    sink = StallingSink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "TASK_REDELIVERY_SECONDS": "3",
        "TASK_POLL_SECONDS": "0.5",
    }
    log_path = tmp_path / "worker.log"
    workers: list[subprocess.Popen[bytes]] = []
    kicker_broker = _reclaiming_stream_broker(redis_url, redelivery_seconds=3, poll_seconds=2)
    try:
        await kicker_broker.startup()  # creates the stream and the consumer group
        first = _start_worker(env, log_path)
        workers.append(first)
        await AsyncKicker("cinema.send_email", kicker_broker, {}).kiq(
            "password_changed", "survivor@example.com", {}
        )

        assert await wait_until(sink.stalled.is_set, within=30), log_path.read_text()[-3000:]
        # The worker holds the message, delivered but not acknowledged:
        pending = await redis.xpending("cinema:tasks", "cinema")
        assert pending["pending"] == 1

        _kill_group(first, signal.SIGKILL)
        assert first.returncode == -signal.SIGKILL
        sink.release()
        killed_at = time.monotonic()
        assert sink.received == []

        second = _start_worker(env, log_path)
        workers.append(second)

        async def delivered() -> bool:
            return len(sink.received) == 1

        assert await wait_until(delivered, within=45), log_path.read_text()[-3000:]
        assert time.monotonic() - killed_at >= 2.5  # not before the redelivery timeout
        (mail,) = sink.received
        assert mail["To"] == "survivor@example.com"
        assert "password" in str(mail["Subject"]).lower()

        async def acknowledged() -> bool:
            return (await redis.xpending("cinema:tasks", "cinema"))["pending"] == 0

        assert await wait_until(acknowledged, within=10)
        await asyncio.sleep(1.0)
        assert len(sink.received) == 1  # delivered once, not again
        assert "reclaimed abandoned task message" in log_path.read_text()
    finally:
        for process in workers:
            if process.poll() is None:
                _kill_group(process, signal.SIGTERM)
        sink.release()
        controller.stop()
        await kicker_broker.shutdown()
        await redis.flushdb()
        await redis.aclose()
