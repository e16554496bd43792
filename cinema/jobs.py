"""The job queue every domain enqueues into: the taskiq broker and `enqueue_email`.

`REDIS_URL` set: a Redis stream broker (consumer group, messages acknowledged
after the task ran, so a worker killed mid-task leaves the message pending;
another worker, or the restarted one, claims it after `TASK_REDELIVERY_SECONDS`).
Unset: taskiq's in-process broker.

This module sits in the shared layer: domains enqueue work by task name and
never import the worker door (`cinema.tasks`), which declares the tasks on this
broker. Enqueue only after the causing transaction commits
(`cinema.db.transaction().add(enqueue_email(...))`), so a rolled-back change
sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from taskiq import AsyncBroker, InMemoryBroker, SimpleRetryMiddleware
from taskiq.kicker import AsyncKicker

from cinema.config import settings_or_exit
from cinema.mail.payloads import payload

log = logging.getLogger("cinema.tasks")

#: The worker task that builds and delivers one email (declared in `cinema.tasks`).
SEND_EMAIL_TASK = "cinema.send_email"


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


def enqueue_email(kind: str, to: str, **fields: Any) -> Callable[[], Awaitable[Any]]:
    """A callback for `AfterCommit.add` that enqueues one email of `kind` to `to`.

    `fields` are validated now against the kind's payload model
    (cinema/mail/payloads.py): a missing, unknown or mistyped field raises
    (`ValueError`) in the request or task that asked for the email, inside its
    transaction, so it rolls back instead of committing a change whose email
    the worker could never build. The task receives the validated fields as JSON.
    """
    validated = payload(kind, fields).model_dump(mode="json")

    async def enqueue() -> None:
        kicker: AsyncKicker[[str, str, dict[str, Any]], None] = AsyncKicker(
            task_name=SEND_EMAIL_TASK, broker=broker, labels={}
        )
        await kicker.kiq(kind, to, validated)

    return enqueue
