"""taskiq broker, tasks and schedule.

`REDIS_URL` set: a Redis stream broker (consumer group, messages acknowledged
after the task ran, so a worker killed mid-task leaves the message pending;
another worker, or the restarted one, claims it after `TASK_REDELIVERY_SECONDS`). Unset: taskiq's in-process broker. Enqueue only after the
causing transaction commits (`cinema.db.transaction().add(...)`), through
`enqueue_email`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from email.message import EmailMessage
from typing import Any

from taskiq import (
    AsyncBroker,
    InMemoryBroker,
    SimpleRetryMiddleware,
    TaskiqEvents,
    TaskiqScheduler,
    TaskiqState,
)
from taskiq.schedule_sources import LabelScheduleSource

from cinema.config import get_settings, settings_or_exit
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


def _reclaiming_stream_broker(url: str, redelivery_seconds: float, poll_seconds: float) -> AsyncBroker:
    """The Redis stream broker; `redelivery_seconds` is `TASK_REDELIVERY_SECONDS` (see Settings)."""
    from redis.asyncio import Redis
    from taskiq import AckableMessage
    from taskiq_redis import RedisStreamBroker

    class ReclaimingRedisStreamBroker(RedisStreamBroker):
        """`RedisStreamBroker` that also reclaims abandoned messages when the stream is idle.

        taskiq-redis 1.2 runs XAUTOCLAIM only right after XREADGROUP returned new
        messages, so a message left pending by a killed worker waits for the next
        unrelated task. Here every poll first claims messages idle longer than
        `idle_timeout` (ms), then reads new ones.
        """

        async def listen(self) -> AsyncGenerator[AckableMessage, None]:
            streams = [self.queue_name, *self.additional_streams.keys()]
            async with Redis(connection_pool=self.connection_pool) as redis_conn:
                while True:
                    for stream in streams:
                        claimed: Any = await redis_conn.xautoclaim(
                            name=stream,
                            groupname=self.consumer_group_name,
                            consumername=self.consumer_name,
                            min_idle_time=self.idle_timeout,
                            count=self.unacknowledged_batch_size,
                        )
                        for msg_id, msg in claimed[1]:
                            if not msg:  # deleted from the stream meanwhile
                                continue
                            log.warning("reclaimed abandoned task message %s from %s", msg_id, stream)
                            yield AckableMessage(
                                data=msg[b"data"], ack=self._ack_generator(id=msg_id, queue_name=stream)
                            )
                    wanted: dict[Any, Any] = {self.queue_name: ">", **self.additional_streams}
                    fetched: Any = await redis_conn.xreadgroup(
                        self.consumer_group_name,
                        self.consumer_name,
                        wanted,
                        block=self.block,
                        noack=False,
                        count=self.count,
                    )
                    for name, messages in fetched or []:
                        for msg_id, msg in messages:
                            yield AckableMessage(
                                data=msg[b"data"], ack=self._ack_generator(id=msg_id, queue_name=name)
                            )

    return ReclaimingRedisStreamBroker(
        url=url,
        queue_name="cinema:tasks",
        consumer_group_name="cinema",
        idle_timeout=int(redelivery_seconds * 1000),
        xread_block=int(poll_seconds * 1000),
    )


def _make_broker() -> AsyncBroker:
    settings = settings_or_exit()  # built at import: invalid settings end the process with one line
    made: AsyncBroker
    if settings.redis_url:
        made = _reclaiming_stream_broker(
            settings.redis_url, settings.task_redelivery_seconds, settings.task_poll_seconds
        )
    else:
        made = InMemoryBroker()
    # Makes the tasks' `retry_on_error`/`max_retries` labels take effect (immediate re-kick).
    return made.with_middlewares(SimpleRetryMiddleware(default_retry_count=5))


broker = _make_broker()
scheduler = TaskiqScheduler(broker=broker, sources=[LabelScheduleSource(broker)])


@broker.on_event(TaskiqEvents.WORKER_STARTUP)
async def _open_db(state: TaskiqState) -> None:
    # In-process broker: the API (or test) process that started it owns the pool.
    if isinstance(broker, InMemoryBroker):
        return
    from cinema.db import open_pool
    from cinema.logging import configure_logging

    configure_logging()
    await open_pool()


@broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
async def _close_db(state: TaskiqState) -> None:
    if isinstance(broker, InMemoryBroker):
        return
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


@broker.task(task_name="cinema.cleanup_media_uploads", schedule=[{"cron": get_settings().media_cleanup_cron}])
async def cleanup_media_uploads() -> dict[str, int]:
    """Hourly cleanup: media uploads never completed within `MEDIA_UPLOAD_TTL_SECONDS`, orphaned objects."""
    from cinema.media.assets import cleanup

    removed = await cleanup()
    log.info("media cleanup %s", removed)
    return removed


def enqueue_email(kind: str, to: str, **context: Any) -> Callable[[], Awaitable[Any]]:
    """A callback for `AfterCommit.add` that enqueues one email."""
    if kind not in MAIL_BUILDERS:
        raise ValueError(f"unknown email kind {kind!r}")

    async def enqueue() -> None:
        await send_email.kiq(kind, to, context)

    return enqueue
