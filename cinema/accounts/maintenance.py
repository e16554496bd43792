"""Periodic cleanup of expired account data (run by the scheduler and `cinema tokens purge`)."""

from __future__ import annotations

from datetime import timedelta

from cinema.accounts import sessions
from cinema.accounts.tables import ActivationToken, LoginFailure, MailRequest, PasswordResetToken
from cinema.clock import utcnow
from cinema.config import get_settings


async def purge_expired() -> dict[str, int]:
    """Delete expired activation/reset tokens and sessions, and login failures and mail requests past their windows.

    Returns the number of rows deleted per kind.
    """
    now = utcnow()
    window = timedelta(minutes=get_settings().login_failure_window_minutes)
    activation = (
        await ActivationToken.delete()
        .where(ActivationToken.expires_at <= now)
        .returning(ActivationToken.id)
        .run()
    )
    reset = (
        await PasswordResetToken.delete()
        .where(PasswordResetToken.expires_at <= now)
        .returning(PasswordResetToken.id)
        .run()
    )
    failures = (
        await LoginFailure.delete()
        .where(LoginFailure.created_at <= now - window)
        .returning(LoginFailure.id)
        .run()
    )
    mail_window = timedelta(minutes=get_settings().email_throttle_window_minutes)
    mail_requests = (
        await MailRequest.delete()
        .where(MailRequest.created_at <= now - mail_window)
        .returning(MailRequest.id)
        .run()
    )
    return {
        "activation_tokens": len(activation),
        "password_reset_tokens": len(reset),
        "refresh_tokens": await sessions.purge_expired(now),
        "login_failures": len(failures),
        "mail_requests": len(mail_requests),
    }
