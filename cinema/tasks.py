"""The worker door: taskiq tasks and their schedule, declared on the shared broker.

The broker itself lives in `cinema.jobs`, where the domains enqueue work
without importing this module. `taskiq worker cinema.tasks:broker` and
`taskiq scheduler cinema.tasks:scheduler` load this module, which registers
every task below on that broker.
"""

from __future__ import annotations

import logging
from typing import Any

from taskiq import InMemoryBroker, TaskiqEvents, TaskiqScheduler, TaskiqState
from taskiq.schedule_sources import LabelScheduleSource

from cinema.config import get_settings
from cinema.jobs import SEND_EMAIL_TASK, broker, enqueue_email
from cinema.mail import transport
from cinema.mail.messages import render
from cinema.mail.payloads import payload

__all__ = ["broker", "enqueue_email", "scheduler"]

log = logging.getLogger("cinema.tasks")

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


@broker.task(task_name=SEND_EMAIL_TASK, retry_on_error=True, max_retries=5)
async def send_email(kind: str, to: str, fields: dict[str, Any]) -> None:
    """Build the `kind` email for `to` from its payload (validated again from the JSON) and deliver it."""
    await transport.send(render(to, payload(kind, fields)))


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


@broker.task(
    task_name="cinema.remind_ending_rentals", schedule=[{"cron": get_settings().rental_reminder_cron}]
)
async def remind_ending_rentals() -> int:
    """Warn renters a day before a started rental ends, once per rental (docs/entitlements.md, "Rentals")."""
    from cinema.entitlements.rentals import remind_ending_rentals as remind

    sent = await remind()
    log.info("sent %d rental reminders", sent)
    return sent
