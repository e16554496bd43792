"""In-app notifications about your comments, and their emails (docs/api.md, "Catalog").

A reply to your comment (`comment_reply`) or a like of it (`comment_like`)
by someone else inserts a `notifications` row in the transaction of that
change and, once it commits, enqueues a `comment_notification` email
(`cinema.jobs.enqueue_email`), so a rolled-back change notifies no one.
Another user's notification is reported as missing (404 `notification_not_found`;
docs/api.md, "Conventions").
"""

from __future__ import annotations

from typing import Any

from piccolo.custom_types import Combinable

from cinema.accounts.tables import User
from cinema.db import AfterCommit, transaction
from cinema.interactions.errors import NotificationNotFound
from cinema.interactions.schemas import NotificationOut
from cinema.interactions.tables import Notification, NotificationKind
from cinema.jobs import enqueue_email
from cinema.pagination import Page, PageParams


async def notify(
    hooks: AfterCommit,
    *,
    recipient_id: int,
    actor_id: int,
    kind: NotificationKind,
    comment_id: int,
    movie_id: int,
    message: str,
) -> None:
    """Insert a notification for `recipient_id` and email it after commit.

    Call inside the transaction of the change (`hooks` is its `AfterCommit`).
    Nobody is notified about their own action: `recipient_id == actor_id` is a no-op.
    """
    if recipient_id == actor_id:
        return
    await Notification.insert(
        Notification(user=recipient_id, actor=actor_id, kind=kind.value, comment=comment_id, message=message)
    ).run()
    row = await User.select(User.email).where(User.id == recipient_id).first().run()
    if row is not None:
        hooks.add(enqueue_email("comment_notification", row["email"], message=message, movie_id=movie_id))


async def list_notifications(
    user_id: int, params: PageParams, *, unread_only: bool = False
) -> Page[NotificationOut]:
    """The user's notifications, newest first; only unread ones with `unread_only`."""
    where: Combinable = Notification.user == user_id
    if unread_only:
        where = where & Notification.is_read.eq(False)
    total = await Notification.count().where(where).run()
    rows = (
        await Notification.select(
            Notification.id,
            Notification.kind,
            Notification.message,
            Notification.is_read,
            Notification.created_at,
            Notification.actor.as_alias("actor_id"),
            Notification.comment.as_alias("comment_id"),
            Notification.comment.movie.as_alias("movie_id"),
        )
        .where(where)
        .order_by(Notification.created_at, Notification.id, ascending=False)
        .limit(params.per_page)
        .offset(params.offset)
        .run()
    )
    return Page[NotificationOut].build([_out(row) for row in rows], params, total)


def _out(row: dict[str, Any]) -> NotificationOut:
    return NotificationOut(
        id=row["id"],
        kind=NotificationKind(row["kind"]),
        message=row["message"],
        is_read=bool(row["is_read"]),
        created_at=row["created_at"],
        actor_id=row["actor_id"],
        comment_id=row["comment_id"],
        movie_id=row["movie_id"],
    )


async def mark_read(user_id: int, notification_id: int) -> None:
    """Mark one of the user's notifications read (idempotent).

    Raises NotificationNotFound when it does not exist or belongs to someone else.
    """
    async with transaction():
        updated = (
            await Notification.update({Notification.is_read: True})
            .where((Notification.id == notification_id) & (Notification.user == user_id))
            .returning(Notification.id)
            .run()
        )
    if not updated:
        raise NotificationNotFound()


async def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    async with transaction():
        updated = (
            await Notification.update({Notification.is_read: True})
            .where((Notification.user == user_id) & Notification.is_read.eq(False))
            .returning(Notification.id)
            .run()
        )
    return len(updated)
