"""The scheduled cleanup (`cinema.purge_expired_tokens`): expired tokens and old login failures go."""

from __future__ import annotations

from datetime import timedelta

from cinema.accounts.tables import ActivationToken, RefreshToken
from cinema.clock import utcnow


async def test_the_scheduled_cleanup_task_purges_expired_rows(make_user) -> None:
    from cinema.tasks import broker, purge_expired_tokens

    user = await make_user()  # its live session stays
    await ActivationToken(user=user.id, token="e" * 64, expires_at=utcnow() - timedelta(seconds=1)).save()
    await RefreshToken(user=user.id, token="f" * 64, expires_at=utcnow() - timedelta(seconds=1)).save()

    task = await purge_expired_tokens.kiq()
    await broker.wait_all()
    result = await task.wait_result(timeout=10)

    assert result.return_value == {
        "activation_tokens": 1,
        "password_reset_tokens": 0,
        "refresh_tokens": 1,
        "login_failures": 0,
        "mail_requests": 0,
    }
    assert await RefreshToken.count().run() == 1
