"""Email payloads (cinema/mail/payloads.py): checked when the email is enqueued, rendered from the model."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cinema.accounts.tables import User
from cinema.db import transaction
from cinema.jobs import enqueue_email
from cinema.mail.messages import BUILDERS, render
from cinema.mail.payloads import PAYLOADS, payload
from tests.conftest import text_of

#: One valid payload per kind.
VALID: dict[str, dict[str, Any]] = {
    "activation": {"token": "tok_123-abc", "ttl_hours": 24},
    "password_reset": {"token": "tok_456", "ttl_hours": 1},
    "password_changed": {},
    "comment_notification": {"message": "Sam replied to your comment.", "movie_id": 7},
    "payment_succeeded": {"order_id": 3, "amount": "19.99", "currency": "usd", "movies": ["Heat", "Ran"]},
    "payment_failed": {"order_id": 3, "reason": "The card was declined (card_declined)."},
    "refund_processed": {"order_id": 3, "amount": "9.50", "currency": "eur"},
    "refund_rejected": {"order_id": 3, "note": "Watched already."},
    "rental_ending": {"movie": "Heat", "movie_id": 7, "ends_at": "2027-01-02 10:00 UTC"},
}


def test_every_kind_has_a_payload_and_a_builder() -> None:
    assert set(PAYLOADS) == set(VALID)
    assert set(BUILDERS) == set(PAYLOADS.values())


@pytest.mark.parametrize("kind", sorted(VALID))
def test_each_kind_renders_from_its_payload(kind: str) -> None:
    message = render("ann@example.com", payload(kind, VALID[kind]))
    assert message["To"] == "ann@example.com"
    assert message["Subject"]
    seen = message["Subject"] + "\n" + text_of(message)
    for name, value in VALID[kind].items():
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        assert (shown.upper() if name == "currency" else shown) in seen, (kind, name)


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("activation", {"token": "tok"}),  # missing ttl_hours
        ("activation", {"token": "tok", "ttl_hours": "24"}),  # a string where an int belongs
        ("activation", {"token": "tok", "ttl_hours": 24, "extra": 1}),  # unknown field
        ("activation", {"token": "bad token with spaces", "ttl_hours": 24}),
        ("password_changed", {"token": "tok"}),
        ("comment_notification", {"message": "", "movie_id": 7}),
        ("comment_notification", {"message": "Hi", "movie_id": 0}),
        ("payment_succeeded", {"order_id": 3, "amount": 19.99, "currency": "usd", "movies": []}),
        ("payment_succeeded", {"order_id": 3, "amount": "19.9", "currency": "usd", "movies": []}),
        ("refund_processed", {"order_id": 3, "amount": "9.50", "currency": "euro"}),
        ("refund_rejected", {"order_id": 2**31, "note": "No."}),
    ],
)
def test_a_wrong_payload_raises_at_enqueue(kind: str, fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        enqueue_email(kind, "ann@example.com", **fields)


def test_an_unknown_kind_raises_at_enqueue() -> None:
    with pytest.raises(ValueError, match="unknown email kind 'welcome'"):
        enqueue_email("welcome", "ann@example.com")


async def test_a_wrong_payload_rolls_the_causing_transaction_back_and_sends_nothing(outbox) -> None:
    ran: list[str] = []

    async def after_commit() -> None:
        ran.append("hook")

    async def sign_up_with_a_broken_email() -> None:
        async with transaction() as hooks:
            await User.create("kept@example.com", "Str0ng!Passw0rd", 1, active=True)
            hooks.add(after_commit)
            hooks.add(enqueue_email("activation", "kept@example.com", token="tok", ttl_hours="soon"))

    with pytest.raises(ValidationError):
        await sign_up_with_a_broken_email()

    assert ran == []  # no after-commit hook ran: the transaction never committed
    assert await User.count().where(User.email == "kept@example.com").run() == 0
    assert await outbox() == []


async def test_the_worker_sends_what_was_validated(outbox) -> None:
    async with transaction() as hooks:
        hooks.add(enqueue_email("password_reset", "ann@example.com", token="tok_789", ttl_hours=2))

    [message] = await outbox()
    assert (message["To"], message["Subject"]) == ("ann@example.com", "Reset your Cinema password")
    assert "within 2 hour(s): tok_789" in text_of(message)
