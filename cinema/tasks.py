"""taskiq broker, tasks and schedule.

`REDIS_URL` set: a Redis stream broker (consumer group, messages acknowledged
after the task ran, so a worker killed mid-task leaves the message pending
for the next worker). Unset: taskiq's in-process broker. Enqueue only after the
causing transaction commits (`cinema.db.transaction().add(...)`), through
`enqueue_email`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any

from taskiq import AsyncBroker, InMemoryBroker, TaskiqEvents, TaskiqScheduler, TaskiqState
from taskiq.schedule_sources import LabelScheduleSource

from cinema.config import get_settings
from cinema.mail import messages, transport

log = logging.getLogger("cinema.tasks")

#: Email kinds a task can send, by name (task arguments must be JSON).
MAIL_BUILDERS: dict[str, Callable[..., EmailMessage]] = {
    "activation": messages.activation,
    "password_reset": messages.password_reset,
    "password_changed": messages.password_changed,
    "comment_notification": messages.comment_notification,
    "payment_succeeded": messages.payment_succeeded,
    "payment_failed": messages.payment_failed,
    "refund_processed": messages.refund_processed,
    "refund_rejected": messages.refund_rejected,
}


def _make_broker() -> AsyncBroker:
    settings = get_settings()
    if settings.redis_url:
        from taskiq_redis import RedisStreamBroker

        return RedisStreamBroker(url=settings.redis_url, queue_name="cinema:tasks")
    return InMemoryBroker()


broker = _make_broker()
scheduler = TaskiqScheduler(broker=broker, sources=[LabelScheduleSource(broker)])


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def _open_db(state: TaskiqState) -> None:
    from cinema.db import open_pool

    await open_pool()


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def _close_db(state: TaskiqState) -> None:
    from cinema.db import close_pool

    await close_pool()


@broker.task(task_name="cinema.send_email", retry_on_error=True, max_retries=5)
async def send_email(kind: str, to: str, context: dict[str, Any]) -> None:
    """Build the `kind` email for `to` from `context` and deliver it."""
    await transport.send(MAIL_BUILDERS[kind](to, **context))


@broker.task(task_name="cinema.purge_expired_tokens", schedule=[{"cron": get_settings().token_purge_cron}])
async def purge_expired_tokens() -> dict[str, int]:
    """Hourly cleanup: expired activation, reset and refresh tokens, old login failures."""
    from cinema.accounts.maintenance import purge_expired

    counts = await purge_expired()
    log.info("purged expired tokens %s", counts)
    return counts


def enqueue_email(kind: str, to: str, **context: Any) -> Callable[[], Awaitable[Any]]:
    """A callback for `AfterCommit.add` that enqueues one email."""
    if kind not in MAIL_BUILDERS:
        raise ValueError(f"unknown email kind {kind!r}")

    async def enqueue() -> None:
        await send_email.kiq(kind, to, context)

    return enqueue
