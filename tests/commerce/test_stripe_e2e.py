"""End to end against a real Stripe emulator: localstripe, the real app under uvicorn, real SMTP.

Once per module, `tests/stripe_stack.py` starts localstripe, the app under
uvicorn configured for it (on the test database) and an SMTP sink; localstripe
signs and delivers real webhook events to the app.

Each test plays the browser: it confirms the PaymentIntent at localstripe
(`update(payment_method=...)`, then `confirm`), and waits for the webhook.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import stripe

from cinema.accounts.actor import GroupName
from tests.commerce.payments_helpers import (
    intent_event,
    order_state,
    payment_row,
    payments_of_order,
    purchased_movie_ids,
    refund_event,
    sign,
    subjects,
)
from tests.conftest import text_of
from tests.stripe_stack import StripeStack, confirm, eventually, run_stripe_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[StripeStack]:
    with run_stripe_stack("cinema-stripe-e2e-") as running:
        yield running


@pytest.fixture
async def api(stack: StripeStack) -> Any:
    """An HTTP client on the app subprocess; the mail sink starts empty for each test."""
    stack.inbox.messages.clear()
    async with httpx.AsyncClient(base_url=stack.app_base, timeout=30) as http:
        yield http


async def order_from_cart(
    api: httpx.AsyncClient, user: Any, fill_cart: Any, movie_ids: list[int]
) -> dict[str, Any]:
    await fill_cart(user.id, movie_ids)
    response = await api.post("/orders/", headers=user.headers)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()["order"]
    return order


def status_is(order_id: int, status: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await order_state(order_id))[0] == status

    return check


async def test_card_payment_end_to_end_with_exact_cents(stack, api, make_user, make_movie, fill_cart):
    user = await make_user()
    movies = [
        await make_movie(name=n, price=p) for n, p in (("Alien", "7.77"), ("Heat", "17.99"), ("Up", "0.29"))
    ]
    order = await order_from_cart(api, user, fill_cart, [m.id for m in movies])
    assert order["total_amount"] == "26.05"

    created = await api.post(f"/payments/{order['id']}", headers=user.headers)

    assert created.status_code == 201, created.text
    payment = created.json()
    assert (payment["amount"], payment["currency"], payment["status"]) == ("26.05", "usd", "pending")
    intent = await stack.stripe().v1.payment_intents.retrieve_async(payment["external_payment_id"])
    assert intent.amount == 2605
    assert intent.currency == "usd"
    assert intent.client_secret == payment["client_secret"]
    assert intent.metadata.to_dict() == {
        "order_id": str(order["id"]),
        "payment_id": str(payment["payment_id"]),
        "user_id": str(user.id),
    }

    confirmed = await confirm(stack, intent.id, "pm_card_visa")
    assert confirmed.status == "succeeded"

    await eventually(status_is(order["id"], "paid"), "the order to be paid by the webhook")
    assert (await payment_row(payment["payment_id"]))["status"] == "successful"
    assert await purchased_movie_ids(user.id) == sorted(m.id for m in movies)
    [mail] = await stack.inbox.wait_for(1)
    assert mail["To"] == user.email
    assert mail["Subject"] == f"Payment received for order #{order['id']}"
    assert "26.05 USD" in text_of(mail)
    mine = (await api.get("/payments/", headers=user.headers)).json()["items"]
    assert [(p["status"], p["amount"]) for p in mine] == [("successful", "26.05")]
    assert (await api.get("/cart", headers=user.headers)).json()["items"] == []
    again = await api.post(f"/payments/{order['id']}", headers=user.headers)
    assert (again.status_code, again.json()["code"]) == (409, "not_pending")


async def test_declined_card_cancels_the_payment_then_another_card_pays(
    stack, api, make_user, make_movie, fill_cart
):
    user = await make_user()
    order = await order_from_cart(api, user, fill_cart, [(await make_movie(price="12.00")).id])
    first = (await api.post(f"/payments/{order['id']}", headers=user.headers)).json()

    with pytest.raises(stripe.CardError):
        await confirm(stack, first["external_payment_id"], "pm_card_chargeCustomerFail")

    async def canceled() -> bool:
        return (await payment_row(first["payment_id"]))["status"] == "canceled"

    await eventually(canceled, "the payment_failed webhook")
    row = await payment_row(first["payment_id"])
    assert "card_declined" in row["failure_reason"]
    assert "another card or payment method" in row["failure_reason"]
    assert (await order_state(order["id"]))[0] == "pending"
    [failure] = await stack.inbox.wait_for(1)
    assert failure["Subject"] == f"Payment for order #{order['id']} failed"
    assert "declined" in text_of(failure)

    retry = (await api.post(f"/payments/{order['id']}", headers=user.headers)).json()
    assert retry["payment_id"] != first["payment_id"]
    await confirm(stack, retry["external_payment_id"], "pm_card_visa")
    await eventually(status_is(order["id"], "paid"), "the retry to pay the order")
    mails = await stack.inbox.wait_for(2)
    assert subjects(mails) == [
        f"Payment for order #{order['id']} failed",
        f"Payment received for order #{order['id']}",
    ]


async def test_redelivered_and_reordered_events_apply_once(stack, api, make_user, make_movie, fill_cart):
    user = await make_user()
    order = await order_from_cart(api, user, fill_cart, [(await make_movie(price="5.55")).id])
    payment = (await api.post(f"/payments/{order['id']}", headers=user.headers)).json()
    await confirm(stack, payment["external_payment_id"], "pm_card_visa")
    await eventually(status_is(order["id"], "paid"), "the real webhook")
    await stack.inbox.wait_for(1)

    # The very event localstripe delivered, delivered again twice (Stripe retries).
    events = await stack.stripe().v1.events.list_async({"type": "payment_intent.succeeded"})
    [real] = [e for e in events.data if e.data.object["id"] == payment["external_payment_id"]]
    body = json.dumps(real.to_dict()).encode()
    redeliveries = [
        await api.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": sign(body)})
        for _ in range(2)
    ]
    # A payment_failed that arrives late, after the success.
    late = intent_event(
        "evt_late_failure",
        "payment_intent.payment_failed",
        payment["external_payment_id"],
        555,
        error={"code": "card_declined", "message": "Your card was declined."},
    )
    late_response = await api.post("/webhooks/stripe", content=late, headers={"Stripe-Signature": sign(late)})

    assert [r.json()["outcome"] for r in redeliveries] == ["duplicate", "duplicate"]
    assert late_response.json()["outcome"] == "ignored"
    assert [p["status"] for p in await payments_of_order(order["id"])] == ["successful"]
    assert (await order_state(order["id"]))[0] == "paid"
    await asyncio.sleep(1.5)  # time for any wrongly sent second email to arrive
    assert subjects(stack.inbox.messages) == [f"Payment received for order #{order['id']}"]


async def test_bad_and_stale_signatures_are_refused(stack, api, make_user, make_movie, fill_cart):
    user = await make_user()
    order = await order_from_cart(api, user, fill_cart, [(await make_movie(price="3.33")).id])
    payment = (await api.post(f"/payments/{order['id']}", headers=user.headers)).json()
    body = intent_event("evt_forged_e2e", "payment_intent.succeeded", payment["external_payment_id"], 333)

    forged = await api.post(
        "/webhooks/stripe", content=body, headers={"Stripe-Signature": sign(body, secret="whsec_attacker")}
    )
    stale = await api.post(
        "/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": sign(body, timestamp=int(time.time()) - 600)},
    )

    assert (forged.status_code, forged.json()["code"]) == (400, "invalid_webhook_signature")
    assert (stale.status_code, stale.json()["code"]) == (400, "invalid_webhook_signature")
    assert (await payment_row(payment["payment_id"]))["status"] == "pending"
    assert (await order_state(order["id"]))[0] == "pending"
    # The same body, correctly signed, is accepted: the refusals were about the signature only.
    good = await api.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": sign(body)})
    assert good.json()["outcome"] == "applied"


async def test_concurrent_orders_and_payments_make_one_order_and_one_intent(
    stack, api, make_user, make_movie, fill_cart
):
    user = await make_user()
    await fill_cart(user.id, [(await make_movie(price="9.99")).id, (await make_movie(price="1.01")).id])

    orders = await asyncio.gather(*(api.post("/orders/", headers=user.headers) for _ in range(5)))

    created = [r for r in orders if r.status_code == 201]
    assert len(created) == 1, [r.text for r in orders]
    order_id = created[0].json()["order"]["id"]
    before = {i.id for i in (await stack.stripe().v1.payment_intents.list_async({"limit": 100})).data}

    payments = await asyncio.gather(
        *(api.post(f"/payments/{order_id}", headers=user.headers) for _ in range(5))
    )

    assert [r.status_code for r in payments] == [201] * 5
    assert len({r.json()["external_payment_id"] for r in payments}) == 1
    after = (await stack.stripe().v1.payment_intents.list_async({"limit": 100})).data
    new = [i for i in after if i.id not in before]
    assert [(i.id, i.amount) for i in new] == [(payments[0].json()["external_payment_id"], 1100)]
    assert len(await payments_of_order(order_id)) == 1


async def test_refund_through_localstripe(stack, api, make_user, make_movie, fill_cart):
    admin = await make_user(group=GroupName.ADMIN)
    user = await make_user()
    order = await order_from_cart(api, user, fill_cart, [(await make_movie(price="14.20")).id])
    payment = (await api.post(f"/payments/{order['id']}", headers=user.headers)).json()
    await confirm(stack, payment["external_payment_id"], "pm_card_visa")
    await eventually(status_is(order["id"], "paid"), "the payment")

    asked = await api.post(
        f"/orders/{order['id']}/refund", json={"reason": "Bought twice"}, headers=user.headers
    )
    assert asked.status_code == 202
    refunded = await api.post(f"/payments/{payment['payment_id']}/refund", headers=admin.headers)

    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded"
    assert await order_state(order["id"]) == ("canceled", Decimal("14.20"))
    assert await purchased_movie_ids(user.id) == []
    refunds = (await stack.stripe().v1.refunds.list_async({"limit": 100})).data
    [refund] = [r for r in refunds if r.payment_intent == payment["external_payment_id"]]
    assert (refund.amount, refund.status) == (1420, "succeeded")
    # Stripe's charge.refunded for the same refund changes nothing more.
    body = refund_event("evt_charge_refunded", payment["external_payment_id"], 1420)
    echo = await api.post("/webhooks/stripe", content=body, headers={"Stripe-Signature": sign(body)})
    assert echo.json()["outcome"] == "ignored"
    mails = await stack.inbox.wait_for(2)
    await asyncio.sleep(0.5)
    assert subjects(stack.inbox.messages) == [
        f"Payment received for order #{order['id']}",
        f"Refund for order #{order['id']}",
    ]
    assert "14.20 USD" in text_of(mails[1])


async def test_a_new_payment_cancels_the_declined_intent_at_stripe(
    stack, api, make_user, make_movie, fill_cart
):
    """One order, one charge. The declined intent can no longer be retried once a new payment exists."""
    user = await make_user()
    order = await order_from_cart(api, user, fill_cart, [(await make_movie(price="12.00")).id])
    first = (await api.post(f"/payments/{order['id']}", headers=user.headers)).json()
    with pytest.raises(stripe.CardError):
        await confirm(stack, first["external_payment_id"], "pm_card_chargeCustomerFail")

    async def canceled() -> bool:
        return (await payment_row(first["payment_id"]))["status"] == "canceled"

    await eventually(canceled, "the payment_failed webhook")

    retry = await api.post(f"/payments/{order['id']}", headers=user.headers)
    assert retry.status_code == 201, retry.text
    old_intent = await stack.stripe().v1.payment_intents.retrieve_async(first["external_payment_id"])
    assert old_intent.status == "canceled"
    with pytest.raises(stripe.StripeError):
        await confirm(stack, first["external_payment_id"], "pm_card_visa")

    await confirm(stack, retry.json()["external_payment_id"], "pm_card_visa")
    await eventually(status_is(order["id"], "paid"), "the new payment to pay the order")
    statuses = {p["status"] for p in (await api.get("/payments/", headers=user.headers)).json()["items"]}
    assert statuses == {"canceled", "successful"}


async def test_a_rental_paid_through_localstripe_starts_at_its_first_playback(
    stack, api, make_user, make_movie
):
    from datetime import timedelta

    from cinema.catalog.tables import Movie
    from cinema.clock import utcnow
    from cinema.db import fetch
    from cinema.media.storage import new_key
    from cinema.media.tables import AssetStatus, MediaAsset, MediaKind
    from cinema.sql import as_datetime

    user = await make_user()
    movie = await make_movie(name="Heat", price="9.99")
    await Movie.update({Movie.rental_price: Decimal("3.33")}).where(Movie.id == movie.id)
    await MediaAsset(
        movie=movie.id,
        kind=MediaKind.FEATURE,
        status=AssetStatus.READY,
        storage_key=new_key(movie.id, True, "webm"),
        content_type="video/webm",
        size_bytes=1000,
        duration_seconds=600.0,
    ).save()
    added = await api.post("/cart/items", json={"movie_id": movie.id, "offer": "rent"}, headers=user.headers)
    assert (added.status_code, added.json()["price"]) == (201, "3.33"), added.text
    order = (await api.post("/orders/", headers=user.headers)).json()["order"]
    assert (order["total_amount"], order["items"][0]["offer"]) == ("3.33", "rent")
    payment = (await api.post(f"/payments/{order['id']}", headers=user.headers)).json()
    intent = await stack.stripe().v1.payment_intents.retrieve_async(payment["external_payment_id"])
    assert intent.amount == 333

    await confirm(stack, intent.id, "pm_card_visa")
    await eventually(status_is(order["id"], "paid"), "the rental to be paid by the webhook")

    rental = "SELECT source, payment_id, expires_at, start_by FROM entitlements WHERE user_id = {}"
    [row] = await fetch(rental, user.id)
    assert (row["source"], row["payment_id"], row["expires_at"]) == ("rental", payment["payment_id"], None)
    assert as_datetime(row["start_by"]) > utcnow() + timedelta(days=29)
    assert await purchased_movie_ids(user.id) == []
    [mail] = await stack.inbox.wait_for(1)
    assert "Your movies: Heat (rental)." in text_of(mail)

    played = await api.get(f"/movies/{movie.id}/playback", headers=user.headers)
    assert played.status_code == 200, played.text
    [row] = await fetch(rental, user.id)
    ends = as_datetime(row["expires_at"])
    assert timedelta(hours=47, minutes=58) < ends - utcnow() <= timedelta(hours=48)
    again = await api.post("/cart/items", json={"movie_id": movie.id, "offer": "rent"}, headers=user.headers)
    assert (again.status_code, again.json()["code"]) == (409, "already_rented")
