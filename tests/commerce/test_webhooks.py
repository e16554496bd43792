"""POST /webhooks/stripe with signed events, and the sandbox outcomes that share its handler.

docs/api.md, "Payments": signature over the raw body (bad, tampered, stale: 400 and
nothing changes); succeeded -> paid, purchases, counters, cart cleaned, email;
failed -> canceled with the decline advice, email, order pending; refunded ->
refunded; each event once, in any order; amount/currency mismatch changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from cinema.config import get_settings
from tests.commerce.payments_helpers import (
    DECLINED,
    WEBHOOK_SECRET,
    cart_size,
    event_count,
    intent_event,
    movie_counters,
    order_state,
    payment_row,
    purchased_movie_ids,
    refund_event,
    sign,
    subjects,
)
from tests.conftest import text_of


@pytest.fixture(autouse=True)
def webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    get_settings.cache_clear()


@dataclass
class Pending:
    """A user with a pending order of two movies (one more movie left in the cart) and its payment."""

    user: Any
    order_id: int
    payment_id: int
    intent_id: str
    cents: int
    movie_ids: list[int]
    kept_movie_id: int
    cart_id: int


@pytest.fixture
def pending(client, make_user, make_movie, make_order, fill_cart) -> Callable[[], Awaitable[Pending]]:
    async def make() -> Pending:
        user = await make_user()
        bought = [await make_movie(name="Alien", price="7.77"), await make_movie(name="Heat", price="17.99")]
        kept = await make_movie(name="Kept")
        order_id = await make_order(user.id, [m.id for m in bought])
        # The ordered movies are still in the cart (as if re-added), plus one that is not ordered.
        cart_id = await fill_cart(user.id, [*(m.id for m in bought), kept.id])
        created = await client.post(f"/payments/{order_id}", headers=user.headers)
        assert created.status_code == 201, created.text
        body = created.json()
        return Pending(
            user,
            order_id,
            body["payment_id"],
            body["external_payment_id"],
            2576,
            [m.id for m in bought],
            kept.id,
            cart_id,
        )

    return make


async def post_event(client: Any, body: bytes, signature: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    headers["Stripe-Signature"] = sign(body) if signature is None else signature
    return await client.post("/webhooks/stripe", content=body, headers=headers)


async def test_succeeded_pays_the_order_once(client, pending, outbox):
    p = await pending()
    body = intent_event("evt_ok_1", "payment_intent.succeeded", p.intent_id, p.cents)

    first = await post_event(client, body)
    again = await post_event(client, body)

    assert first.status_code == 200
    assert first.json() == {"received": True, "event_id": "evt_ok_1", "outcome": "applied"}
    assert again.json()["outcome"] == "duplicate"
    assert (await payment_row(p.payment_id))["status"] == "successful"
    assert await order_state(p.order_id) == ("paid", Decimal("25.76"))
    assert await purchased_movie_ids(p.user.id) == sorted(p.movie_ids)
    assert [await movie_counters(m) for m in p.movie_ids] == [(1, 1), (1, 1)]
    assert await cart_size(p.cart_id) == 1  # only the movie that was not ordered is left
    mails = await outbox()
    assert subjects(mails) == [f"Payment received for order #{p.order_id}"]
    assert mails[0]["To"] == p.user.email
    assert "25.76 USD" in text_of(mails[0])
    assert "Alien, Heat" in text_of(mails[0])


async def test_concurrent_redeliveries_apply_once(client, pending, outbox):
    p = await pending()
    body = intent_event("evt_ok_many", "payment_intent.succeeded", p.intent_id, p.cents)

    responses = await asyncio.gather(*(post_event(client, body) for _ in range(6)))

    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["applied"] + ["duplicate"] * 5
    assert await purchased_movie_ids(p.user.id) == sorted(p.movie_ids)
    assert [await movie_counters(m) for m in p.movie_ids] == [(1, 1), (1, 1)]
    assert len(await outbox()) == 1


async def test_failed_cancels_payment_with_advice_and_keeps_order_pending(client, pending, outbox):
    p = await pending()
    body = intent_event("evt_fail_1", "payment_intent.payment_failed", p.intent_id, p.cents, error=DECLINED)

    response = await post_event(client, body)

    assert response.json()["outcome"] == "applied"
    row = await payment_row(p.payment_id)
    assert row["status"] == "canceled"
    assert "Your card was declined (card_declined)." in row["failure_reason"]
    assert "another card or payment method" in row["failure_reason"]
    assert (await order_state(p.order_id))[0] == "pending"
    assert await purchased_movie_ids(p.user.id) == []
    assert await cart_size(p.cart_id) == 3
    [mail] = await outbox()
    assert mail["Subject"] == f"Payment for order #{p.order_id} failed"
    assert "Your card was declined" in text_of(mail)
    assert "another card or payment method" in text_of(mail)


async def test_late_failure_never_moves_a_paid_order_back(client, pending, outbox):
    p = await pending()
    await post_event(client, intent_event("evt_a", "payment_intent.succeeded", p.intent_id, p.cents))

    late = await post_event(
        client, intent_event("evt_b", "payment_intent.payment_failed", p.intent_id, p.cents, error=DECLINED)
    )

    assert late.json()["outcome"] == "ignored"
    assert (await payment_row(p.payment_id))["status"] == "successful"
    assert (await order_state(p.order_id))[0] == "paid"
    assert subjects(await outbox()) == [f"Payment received for order #{p.order_id}"]


async def test_retry_after_a_decline_can_still_succeed(client, pending, outbox):
    p = await pending()
    await post_event(
        client, intent_event("evt_1", "payment_intent.payment_failed", p.intent_id, p.cents, error=DECLINED)
    )

    response = await post_event(
        client, intent_event("evt_2", "payment_intent.succeeded", p.intent_id, p.cents)
    )

    assert response.json()["outcome"] == "applied"
    row = await payment_row(p.payment_id)
    assert (row["status"], row["failure_reason"]) == ("successful", None)
    assert (await order_state(p.order_id))[0] == "paid"
    assert subjects(await outbox()) == [
        f"Payment for order #{p.order_id} failed",
        f"Payment received for order #{p.order_id}",
    ]


@pytest.mark.parametrize(("cents", "currency"), [(2575, "usd"), (2577, "usd"), (2576, "eur")])
async def test_amount_or_currency_mismatch_changes_nothing(client, pending, outbox, caplog, cents, currency):
    p = await pending()

    response = await post_event(
        client, intent_event("evt_mismatch", "payment_intent.succeeded", p.intent_id, cents, currency)
    )

    assert response.status_code == 200
    assert response.json()["outcome"] == "mismatch"
    assert (await payment_row(p.payment_id))["status"] == "pending"
    assert (await order_state(p.order_id))[0] == "pending"
    assert await purchased_movie_ids(p.user.id) == []
    assert await outbox() == []
    assert any("does not match payment" in r.getMessage() for r in caplog.records)


async def test_order_total_changed_since_the_intent_is_a_mismatch(client, pending, outbox):
    p = await pending()
    from cinema.commerce.tables import Order

    await Order.update({Order.total_amount: Decimal("30.00")}).where(Order.id == p.order_id).run()

    response = await post_event(
        client, intent_event("evt_x", "payment_intent.succeeded", p.intent_id, p.cents)
    )

    assert response.json()["outcome"] == "mismatch"
    assert (await payment_row(p.payment_id))["status"] == "pending"
    assert await outbox() == []


@pytest.mark.parametrize(
    "bad",
    ["wrong_secret", "tampered_body", "stale", "missing", "garbage"],
)
async def test_bad_signature_is_400_and_changes_nothing(client, pending, outbox, bad):
    p = await pending()
    body = intent_event("evt_forged", "payment_intent.succeeded", p.intent_id, p.cents)
    signature: str | None = {
        "wrong_secret": sign(body, secret="whsec_not_ours"),
        "tampered_body": sign(body.replace(b'"amount": 2576', b'"amount": 1')),
        "stale": sign(body, timestamp=int(time.time()) - 301 - 5),
        "missing": "",
        "garbage": "not a signature",
    }[bad]

    headers = {"Content-Type": "application/json"}
    if signature:
        headers["Stripe-Signature"] = signature
    response = await client.post("/webhooks/stripe", content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_webhook_signature"
    assert (await payment_row(p.payment_id))["status"] == "pending"
    assert (await order_state(p.order_id))[0] == "pending"
    assert await event_count() == 0
    assert await outbox() == []


async def test_not_json_but_signed_is_400(client):
    body = b"this is not json"
    response = await post_event(client, body)
    assert response.status_code == 400
    assert await event_count() == 0


async def test_unknown_event_type_is_acknowledged_and_ignored(client, pending):
    p = await pending()
    body = intent_event("evt_created", "payment_intent.created", p.intent_id, p.cents)

    response = await post_event(client, body)

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    assert (await payment_row(p.payment_id))["status"] == "pending"


async def test_event_for_an_unknown_intent_is_acknowledged(client):
    response = await post_event(client, intent_event("evt_u", "payment_intent.succeeded", "pi_nobody", 100))
    assert (response.status_code, response.json()["outcome"]) == (200, "unknown_payment")


async def test_webhook_without_configured_secret_is_503(client, monkeypatch):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    get_settings.cache_clear()
    response = await post_event(client, intent_event("evt_n", "payment_intent.succeeded", "pi_x", 1))
    assert (response.status_code, response.json()["code"]) == (503, "webhook_not_configured")


async def test_charge_refunded_refunds_a_paid_order_once(client, pending, outbox):
    p = await pending()
    await post_event(client, intent_event("evt_paid", "payment_intent.succeeded", p.intent_id, p.cents))

    first = await post_event(client, refund_event("evt_ref_1", p.intent_id, p.cents))
    redelivered = await post_event(client, refund_event("evt_ref_1", p.intent_id, p.cents))
    another = await post_event(client, refund_event("evt_ref_2", p.intent_id, p.cents))

    assert [r.json()["outcome"] for r in (first, redelivered, another)] == ["applied", "duplicate", "ignored"]
    assert (await payment_row(p.payment_id))["status"] == "refunded"
    assert (await order_state(p.order_id))[0] == "canceled"
    assert await purchased_movie_ids(p.user.id) == []
    assert [await movie_counters(m) for m in p.movie_ids] == [(0, 0), (0, 0)]
    assert subjects(await outbox()) == [
        f"Payment received for order #{p.order_id}",
        f"Refund for order #{p.order_id}",
    ]
    # A success delivered after the refund does not pay the order again.
    late = await post_event(
        client, intent_event("evt_paid_again", "payment_intent.succeeded", p.intent_id, p.cents)
    )
    assert late.json()["outcome"] == "ignored"
    assert (await order_state(p.order_id))[0] == "canceled"


async def test_partial_refund_is_ignored(client, pending):
    p = await pending()
    await post_event(client, intent_event("evt_paid", "payment_intent.succeeded", p.intent_id, p.cents))

    response = await post_event(client, refund_event("evt_part", p.intent_id, p.cents, refunded_amount=100))

    assert response.json()["outcome"] == "ignored"
    assert (await payment_row(p.payment_id))["status"] == "successful"
    assert (await order_state(p.order_id))[0] == "paid"


# --- The sandbox gateway drives the same handler ---------------------------------------------


async def test_sandbox_succeed_pays_the_order(client, pending, outbox):
    p = await pending()

    response = await client.post(f"/payments/{p.payment_id}/sandbox/succeed", headers=p.user.headers)
    again = await client.post(f"/payments/{p.payment_id}/sandbox/succeed", headers=p.user.headers)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "successful"
    assert again.json()["status"] == "successful"
    assert await order_state(p.order_id) == ("paid", Decimal("25.76"))
    assert await purchased_movie_ids(p.user.id) == sorted(p.movie_ids)
    assert await cart_size(p.cart_id) == 1
    assert subjects(await outbox()) == [f"Payment received for order #{p.order_id}"]
    assert await event_count() == 2  # each sandbox call is an event, applied once


async def test_sandbox_fail_then_new_payment_succeeds(client, pending, outbox):
    p = await pending()

    failed = await client.post(f"/payments/{p.payment_id}/sandbox/fail", headers=p.user.headers)

    assert failed.json()["status"] == "canceled"
    assert "declined" in failed.json()["failure_reason"]
    assert (await order_state(p.order_id))[0] == "pending"
    retry = await client.post(f"/payments/{p.order_id}", headers=p.user.headers)
    assert retry.status_code == 201
    assert retry.json()["payment_id"] != p.payment_id
    paid = await client.post(
        f"/payments/{retry.json()['payment_id']}/sandbox/succeed", headers=p.user.headers
    )
    assert paid.json()["status"] == "successful"
    assert (await order_state(p.order_id))[0] == "paid"
    assert subjects(await outbox()) == [
        f"Payment for order #{p.order_id} failed",
        f"Payment received for order #{p.order_id}",
    ]


async def test_sandbox_is_owner_only_and_off_with_stripe(client, pending, make_user, monkeypatch):
    p = await pending()
    other = await make_user()

    assert (
        await client.post(f"/payments/{p.payment_id}/sandbox/succeed", headers=other.headers)
    ).status_code == 404
    assert (
        await client.post(f"/payments/{p.payment_id}/sandbox/maybe", headers=p.user.headers)
    ).status_code == 422
    assert (await client.post(f"/payments/{p.payment_id}/sandbox/succeed")).status_code == 401
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_configured")
    monkeypatch.setenv("PAYMENT_GATEWAY", "stripe")
    get_settings.cache_clear()
    assert (
        await client.post(f"/payments/{p.payment_id}/sandbox/succeed", headers=p.user.headers)
    ).status_code == 404
    assert (await payment_row(p.payment_id))["status"] == "pending"


async def test_success_for_an_order_canceled_meanwhile_is_recorded_for_a_refund(
    client, pending, outbox, caplog
):
    p = await pending()
    canceled = await client.patch(f"/orders/{p.order_id}/cancel", headers=p.user.headers)
    assert canceled.status_code == 200, canceled.text

    response = await post_event(
        client, intent_event("evt_too_late", "payment_intent.succeeded", p.intent_id, p.cents)
    )

    assert response.json()["outcome"] == "applied"
    row = await payment_row(p.payment_id)
    assert row["status"] == "successful"  # the money was taken: the record says so
    assert "refund it" in row["failure_reason"]
    assert (await order_state(p.order_id))[0] == "canceled"
    assert await purchased_movie_ids(p.user.id) == []
    assert await outbox() == []
    assert any("needs a refund" in r.getMessage() for r in caplog.records)


async def test_cancel_open_payments_cancels_pending_payments(pending):
    from cinema.commerce.payments import cancel_open_payments
    from cinema.commerce.rows import lock_order
    from cinema.db import transaction

    p = await pending()
    async with transaction():
        await lock_order(p.order_id)
        assert await cancel_open_payments(p.order_id) == 1

    row = await payment_row(p.payment_id)
    assert (row["status"], row["failure_reason"]) == ("canceled", "The order was canceled.")
    async with transaction():
        assert await cancel_open_payments(p.order_id) == 0


# --- One order, one charge: a declined intent retried after a newer payment --------------------


async def test_new_payment_cancels_the_declined_intent_so_one_order_is_charged_once(client, pending, outbox):
    p = await pending()
    failed = await client.post(f"/payments/{p.payment_id}/sandbox/fail", headers=p.user.headers)
    assert failed.json()["status"] == "canceled"

    second = await client.post(f"/payments/{p.order_id}", headers=p.user.headers)
    assert second.status_code == 201, second.text
    p2 = second.json()["payment_id"]
    retry_first = await client.post(f"/payments/{p.payment_id}/sandbox/succeed", headers=p.user.headers)

    assert retry_first.status_code == 409, retry_first.text
    assert retry_first.json()["code"] == "intent_canceled"
    first = await payment_row(p.payment_id)
    assert first["status"] == "canceled"
    assert "declined" in first["failure_reason"]  # the decline reason is kept
    assert (await order_state(p.order_id))[0] == "pending"
    paid = await client.post(f"/payments/{p2}/sandbox/succeed", headers=p.user.headers)
    assert paid.json()["status"] == "successful"
    assert (await order_state(p.order_id))[0] == "paid"
    statuses = sorted(
        x["status"] for x in (await client.get("/payments/", headers=p.user.headers)).json()["items"]
    )
    assert statuses == ["canceled", "successful"]


async def test_success_cancels_the_orders_other_live_intents(client, pending, outbox):
    from cinema.commerce.tables import Payment

    p = await pending()
    # A state only a race could make: a second live intent next to the first pending one.
    other = Payment(
        user=p.user.id,
        order=p.order_id,
        status="pending",
        amount=Decimal("25.76"),
        currency="usd",
        external_payment_id="pi_sandbox_second",
        client_secret="pi_sandbox_second_secret_x",
        failure_reason=None,
    )
    await other.save()

    paid = await client.post(f"/payments/{p.payment_id}/sandbox/succeed", headers=p.user.headers)
    assert paid.json()["status"] == "successful"

    second = await payment_row(int(other.id))
    assert second["status"] == "canceled"
    assert second["failure_reason"] == f"The order was paid by payment #{p.payment_id}."
    late = await client.post(f"/payments/{other.id}/sandbox/succeed", headers=p.user.headers)
    assert late.status_code == 409
    assert late.json()["code"] == "intent_canceled"
    assert (await payment_row(int(other.id)))["status"] == "canceled"


async def test_canceled_order_cancels_a_declined_intent_too(client, pending):
    p = await pending()
    await client.post(f"/payments/{p.payment_id}/sandbox/fail", headers=p.user.headers)

    canceled = await client.patch(f"/orders/{p.order_id}/cancel", headers=p.user.headers)
    assert canceled.status_code == 200, canceled.text
    late = await client.post(f"/payments/{p.payment_id}/sandbox/succeed", headers=p.user.headers)

    assert late.status_code == 409
    assert (await payment_row(p.payment_id))["status"] == "canceled"
    assert (await order_state(p.order_id))[0] == "canceled"


# --- Signed but malformed bodies (QA): 400 invalid_event, nothing recorded --------------------


@pytest.mark.parametrize(
    "event",
    [
        [],
        ["evt_1"],
        "evt_1",
        {"id": "evt_d", "type": "payment_intent.succeeded", "data": "x"},
        {"id": "evt_o", "type": "payment_intent.succeeded", "data": {"object": ["pi_x"]}},
        {
            "id": "evt_r",
            "type": "charge.refunded",
            "data": {"object": {"refunds": "x", "payment_intent": "pi_x"}},
        },
        {"id": "evt_rd", "type": "charge.refunded", "data": {"object": {"refunds": {"data": "x"}}}},
        {"id": "evt_" + "a" * 5000, "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_zz"}}},
        {"id": "evt_t", "type": "payment_intent." + "x" * 200, "data": {"object": {}}},
        {"id": 12, "type": "payment_intent.succeeded", "data": {"object": {}}},
        {"id": "evt_\u0000", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_x"}}},
        {"id": "evt_n", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_\u0000"}}},
        {"id": "evt_i", "type": "payment_intent.succeeded", "data": {"object": {"id": 5}}},
        {"type": "payment_intent.succeeded"},
    ],
)
async def test_signed_but_malformed_event_is_400_and_records_nothing(client, pending, event):
    p = await pending()

    response = await post_event(client, json.dumps(event).encode())

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_event"
    assert await event_count() == 0
    assert (await payment_row(p.payment_id))["status"] == "pending"


async def test_signed_body_that_is_not_utf8_json_is_400(client):
    for body in (b"this is not json", b"\xff\xfe{}"):
        response = await post_event(client, body)
        assert response.status_code == 400, response.text
        assert response.json()["code"] in ("invalid_event", "invalid_webhook_signature")
    assert await event_count() == 0


async def test_sandbox_outcome_for_an_order_canceled_meanwhile_changes_nothing(
    client, pending, outbox, monkeypatch
):
    """The cancel commits after the sandbox read the payment, before its outcome is applied.

    The outcome is judged under the order lock, so the canceled intent is seen
    there: 409, and the order, payment, purchases, counters, cart and mailbox
    stay as the cancel left them.
    """
    from cinema.commerce import events
    from cinema.commerce.orders import cancel_order

    p = await pending()
    real_apply_event = events.apply_event

    async def cancel_then_apply(event: Any, **options: Any) -> Any:
        await cancel_order(p.user.actor, p.order_id)
        return await real_apply_event(event, **options)

    monkeypatch.setattr(events, "apply_event", cancel_then_apply)
    recorded_before = await event_count()

    response = await client.post(f"/payments/{p.payment_id}/sandbox/succeed", headers=p.user.headers)

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "intent_canceled"
    row = await payment_row(p.payment_id)
    assert (row["status"], row["failure_reason"]) == ("canceled", "The order was canceled.")
    assert (await order_state(p.order_id))[0] == "canceled"
    assert await purchased_movie_ids(p.user.id) == []
    assert [await movie_counters(m) for m in p.movie_ids] == [(0, 0), (0, 0)]
    assert await cart_size(p.cart_id) == 3
    assert await outbox() == []
    assert await event_count() == recorded_before + 1  # the intent's cancellation, not the outcome
