"""Every email the product sends, built in one place as plain text + HTML.

Each builder takes plain values and returns an `EmailMessage` ready for a
transport. Links use `PUBLIC_BASE_URL`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from email.message import EmailMessage
from urllib.parse import urlencode

from cinema.config import get_settings


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


def activation(to: str, token: str, ttl_hours: int) -> EmailMessage:
    url = _link("/accounts/activate", email=to, token=token)
    return build(
        to,
        "Activate your Cinema account",
        [
            "Welcome to Cinema!",
            f"Confirm your email address to activate your account. The link works for {ttl_hours} hours.",
            f"Activation token: {token}",
        ],
        ("Activate my account", url),
    )


def password_reset(to: str, token: str, ttl_hours: int) -> EmailMessage:
    return build(
        to,
        "Reset your Cinema password",
        [
            "Someone asked to reset the password of this Cinema account.",
            f"Use this token with POST /accounts/password/reset within {ttl_hours} hour(s): {token}",
            "If it was not you, ignore this email: your password stays the same.",
        ],
    )


def password_changed(to: str) -> EmailMessage:
    return build(
        to,
        "Your Cinema password was changed",
        [
            "The password of your Cinema account was just changed and other sessions were signed out.",
            "If it was not you, reset your password at once.",
        ],
    )


def comment_notification(to: str, message: str, movie_id: int) -> EmailMessage:
    return build(
        to, "New activity on your comment", [message], ("See the movie", _link(f"/movies/{movie_id}"))
    )


def payment_succeeded(to: str, order_id: int, amount: str, currency: str, movies: list[str]) -> EmailMessage:
    return build(
        to,
        f"Payment received for order #{order_id}",
        [
            f"Thank you! We received {amount} {currency.upper()} for order #{order_id}.",
            "Your movies: " + ", ".join(movies) + ".",
        ],
        ("Your purchases", _link("/purchases")),
    )


def payment_failed(to: str, order_id: int, reason: str) -> EmailMessage:
    return build(
        to,
        f"Payment for order #{order_id} failed",
        [
            f"The payment for order #{order_id} did not go through: {reason}",
            "Try again with another payment method; your order is kept.",
        ],
    )


def refund_processed(to: str, order_id: int, amount: str, currency: str) -> EmailMessage:
    return build(
        to,
        f"Refund for order #{order_id}",
        [
            f"We refunded {amount} {currency.upper()} for order #{order_id}.",
            "The movies of this order are no longer in your purchases.",
        ],
    )


def refund_rejected(to: str, order_id: int, note: str) -> EmailMessage:
    return build(to, f"Refund request for order #{order_id}", [f"Your refund request was declined: {note}"])


def rental_ending(to: str, movie: str, movie_id: int, ends_at: str) -> EmailMessage:
    return build(
        to,
        "Your rental ends in a day",
        [
            f"Your rental of {movie} ends at {ends_at}.",
            "Finish watching before then, or buy the movie to keep it.",
        ],
        ("Watch now", _link(f"/movies/{movie_id}")),
    )


#: Email kinds a task can send, by name (task arguments must be JSON).
BUILDERS: dict[str, Callable[..., EmailMessage]] = {
    "activation": activation,
    "password_reset": password_reset,
    "password_changed": password_changed,
    "comment_notification": comment_notification,
    "payment_succeeded": payment_succeeded,
    "payment_failed": payment_failed,
    "refund_processed": refund_processed,
    "refund_rejected": refund_rejected,
    "rental_ending": rental_ending,
}
