"""Every email the product sends, built in one place as plain text + HTML.

Each builder takes the kind's validated payload (cinema/mail/payloads.py)
and returns an `EmailMessage` ready for a transport; `render` picks the
builder. Links use `PUBLIC_BASE_URL`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

from cinema.config import get_settings
from cinema.mail import payloads as p


def _link(path: str, **query: str) -> str:
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def build(to: str, subject: str, paragraphs: list[str], link: tuple[str, str] | None = None) -> EmailMessage:
    """A two-part message. `link` is (label, url), shown as a button in HTML."""
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    text = "\n\n".join(paragraphs)
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if link:
        label, url = link
        text += f"\n\n{label}: {url}"
        body += f'<p><a href="{html.escape(url)}">{html.escape(label)}</a></p>'
    message.set_content(text + "\n\n-- \nCinema\n")
    message.add_alternative(
        f"<!doctype html><html><body>{body}<p style='color:#888'>Cinema</p></body></html>",
        subtype="html",
    )
    return message


def activation(to: str, data: p.Activation) -> EmailMessage:
    url = _link("/accounts/activate", email=to, token=data.token)
    return build(
        to,
        "Activate your Cinema account",
        [
            "Welcome to Cinema!",
            f"Confirm your email address to activate your account. The link works for {data.ttl_hours} hours.",
            f"Activation token: {data.token}",
        ],
        ("Activate my account", url),
    )


def password_reset(to: str, data: p.PasswordReset) -> EmailMessage:
    return build(
        to,
        "Reset your Cinema password",
        [
            "Someone asked to reset the password of this Cinema account.",
            f"Use this token with POST /accounts/password/reset within {data.ttl_hours} hour(s): {data.token}",
            "If it was not you, ignore this email: your password stays the same.",
        ],
    )


def password_changed(to: str, data: p.PasswordChanged) -> EmailMessage:
    return build(
        to,
        "Your Cinema password was changed",
        [
            "The password of your Cinema account was just changed and other sessions were signed out.",
            "If it was not you, reset your password at once.",
        ],
    )


def comment_notification(to: str, data: p.CommentNotification) -> EmailMessage:
    return build(
        to,
        "New activity on your comment",
        [data.message],
        ("See the movie", _link(f"/movies/{data.movie_id}")),
    )


def payment_succeeded(to: str, data: p.PaymentSucceeded) -> EmailMessage:
    return build(
        to,
        f"Payment received for order #{data.order_id}",
        [
            f"Thank you! We received {data.amount} {data.currency.upper()} for order #{data.order_id}.",
            "Your movies: " + ", ".join(data.movies) + ".",
        ],
        ("Your purchases", _link("/purchases")),
    )


def payment_failed(to: str, data: p.PaymentFailed) -> EmailMessage:
    return build(
        to,
        f"Payment for order #{data.order_id} failed",
        [
            f"The payment for order #{data.order_id} did not go through: {data.reason}",
            "Try again with another payment method; your order is kept.",
        ],
    )


def refund_processed(to: str, data: p.RefundProcessed) -> EmailMessage:
    return build(
        to,
        f"Refund for order #{data.order_id}",
        [
            f"We refunded {data.amount} {data.currency.upper()} for order #{data.order_id}.",
            "The movies of this order are no longer in your purchases.",
        ],
    )


def refund_rejected(to: str, data: p.RefundRejected) -> EmailMessage:
    return build(
        to,
        f"Refund request for order #{data.order_id}",
        [f"Your refund request was declined: {data.note}"],
    )


def rental_ending(to: str, data: p.RentalEnding) -> EmailMessage:
    return build(
        to,
        "Your rental ends in a day",
        [
            f"Your rental of {data.movie} ends at {data.ends_at}.",
            "Finish watching before then, or buy the movie to keep it.",
        ],
        ("Watch now", _link(f"/movies/{data.movie_id}")),
    )


#: The builder of each payload type.
BUILDERS: dict[type[p.EmailPayload], Callable[[str, Any], EmailMessage]] = {
    p.Activation: activation,
    p.PasswordReset: password_reset,
    p.PasswordChanged: password_changed,
    p.CommentNotification: comment_notification,
    p.PaymentSucceeded: payment_succeeded,
    p.PaymentFailed: payment_failed,
    p.RefundProcessed: refund_processed,
    p.RefundRejected: refund_rejected,
    p.RentalEnding: rental_ending,
}


def render(to: str, payload: p.EmailPayload) -> EmailMessage:
    """The message for a validated payload."""
    return BUILDERS[type(payload)](to, payload)
