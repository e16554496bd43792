"""What the product sends to Stripe, seen by a recording HTTP server on loopback.

localstripe ignores idempotency keys and headers, so this checks the request
itself: POST /v1/payment_intents with the exact cents, currency, metadata,
`payment_method_types[]=card` and an `Idempotency-Key` derived from the payment
row; refunds with their own key; and how Stripe's error answers map to ours
(502 `payment_gateway_error`, 409 `amount_too_small`), with nothing written.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

from cinema.accounts.actor import GroupName
from cinema.commerce.tables import Payment, PaymentStatus
from cinema.config import get_settings
from tests.commerce.payments_helpers import order_state, payment_row, payments_of_order


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class FakeStripe:
    """Answers each request with the next queued (status, JSON) reply and records it."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
def fake_stripe(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    state = FakeStripe(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            state.requests.append(
                Recorded(
                    "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, dict(parse_qsl(body))
                )
            )
            status, reply = (
                state.replies.pop(0) if state.replies else (500, {"error": {"message": "no reply"}})
            )
            payload = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_recorded")
    monkeypatch.setenv("PAYMENT_GATEWAY", "stripe")
    monkeypatch.setenv("STRIPE_API_BASE", state.url)
    get_settings.cache_clear()
    yield state
    server.shutdown()
    server.server_close()


def intent_reply(amount: int, intent_id: str = "pi_recorded_1") -> dict[str, Any]:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "currency": "usd",
        "status": "requires_payment_method",
        "client_secret": f"{intent_id}_secret_abc",
        "metadata": {},
    }


async def test_payment_intent_request_has_exact_cents_metadata_and_idempotency_key(
    client, fake_stripe, make_user, make_movie, make_order
):
    user = await make_user()
    order_id = await make_order(user.id, [(await make_movie(price=p)).id for p in ("7.77", "17.99", "0.29")])
    fake_stripe.replies.append((200, intent_reply(2605)))

    response = await client.post(f"/payments/{order_id}", headers=user.headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["external_payment_id"], body["client_secret"]) == (
        "pi_recorded_1",
        "pi_recorded_1_secret_abc",
    )
    [request] = fake_stripe.requests
    assert request.path == "/v1/payment_intents"
    assert request.headers["authorization"] == "Bearer sk_test_recorded"
    assert request.form == {
        "amount": "2605",
        "currency": "usd",
        "metadata[order_id]": str(order_id),
        "metadata[payment_id]": str(body["payment_id"]),
        "metadata[user_id]": str(user.id),
        "payment_method_types[0]": "card",
    }
    key = request.headers["idempotency-key"]
    assert key.startswith(f"cinema-payment-{body['payment_id']}-")
    # The second call finds its own pending payment: no second request to Stripe.
    again = await client.post(f"/payments/{order_id}", headers=user.headers)
    assert again.json()["payment_id"] == body["payment_id"]
    assert len(fake_stripe.requests) == 1


async def test_replaced_intent_is_canceled_at_stripe(client, fake_stripe, make_user, make_movie, make_order):
    from cinema.catalog.tables import Movie

    user = await make_user()
    movie = await make_movie(price="5.00")
    order_id = await make_order(user.id, [movie.id])
    fake_stripe.replies.append((200, intent_reply(500, "pi_first")))
    first = (await client.post(f"/payments/{order_id}", headers=user.headers)).json()
    await Movie.update({Movie.price: Decimal("4.00")}).where(Movie.id == movie.id).run()
    fake_stripe.replies += [
        (200, {**intent_reply(500, "pi_first"), "status": "canceled"}),
        (200, intent_reply(400, "pi_second")),
    ]

    second = (await client.post(f"/payments/{order_id}", headers=user.headers)).json()

    assert [r.path for r in fake_stripe.requests] == [
        "/v1/payment_intents",
        "/v1/payment_intents/pi_first/cancel",
        "/v1/payment_intents",
    ]
    assert fake_stripe.requests[2].form["amount"] == "400"
    assert second["external_payment_id"] == "pi_second"
    assert (await payment_row(first["payment_id"]))["status"] == "canceled"


@pytest.mark.parametrize(
    ("status", "error", "code", "http"),
    [
        (
            400,
            {"type": "invalid_request_error", "message": "Unexpected automatic_payment_methods"},
            "payment_gateway_error",
            502,
        ),
        (
            401,
            {"type": "invalid_request_error", "message": "Invalid API Key provided"},
            "payment_gateway_error",
            502,
        ),
        (
            400,
            {
                "type": "invalid_request_error",
                "code": "amount_too_small",
                "message": "Amount must be at least $0.50 usd",
            },
            "amount_too_small",
            409,
        ),
    ],
)
async def test_stripe_errors_map_to_clear_answers_and_write_nothing(
    client, fake_stripe, make_user, make_movie, make_order, status, error, code, http
):
    user = await make_user()
    order_id = await make_order(user.id, [(await make_movie(price="0.29")).id])
    fake_stripe.replies.append((status, {"error": error}))

    response = await client.post(f"/payments/{order_id}", headers=user.headers)

    assert (response.status_code, response.json()["code"]) == (http, code)
    assert await payments_of_order(order_id) == []
    assert await order_state(order_id) == ("pending", Decimal("0.29"))


async def test_refund_request_uses_the_payment_intent_and_its_own_key(
    client, fake_stripe, make_user, make_movie, make_order
):
    from cinema.commerce.tables import OrderStatus

    admin = await make_user(group=GroupName.ADMIN)
    user = await make_user()
    order_id = await make_order(user.id, [(await make_movie(price="14.20")).id], status=OrderStatus.PAID)
    payment = Payment(
        user=user.id,
        order=order_id,
        status=PaymentStatus.SUCCESSFUL,
        amount=Decimal("14.20"),
        currency="usd",
        external_payment_id="pi_paid_1",
    )
    await payment.save()
    fake_stripe.replies.append(
        (
            200,
            {
                "id": "re_1",
                "object": "refund",
                "amount": 1420,
                "status": "succeeded",
                "payment_intent": "pi_paid_1",
            },
        )
    )

    response = await client.post(f"/payments/{payment.id}/refund", headers=admin.headers)

    assert response.status_code == 200, response.text
    [request] = fake_stripe.requests
    assert request.path == "/v1/refunds"
    assert request.form == {"payment_intent": "pi_paid_1", "amount": "1420"}
    assert request.headers["idempotency-key"] == f"cinema-refund-payment-{payment.id}"
    assert (await order_state(order_id))[0] == "canceled"


async def test_failed_refund_status_is_502_and_changes_nothing(
    client, fake_stripe, make_user, make_movie, make_order
):
    from cinema.commerce.tables import OrderStatus

    admin = await make_user(group=GroupName.ADMIN)
    user = await make_user()
    order_id = await make_order(user.id, [(await make_movie(price="2.00")).id], status=OrderStatus.PAID)
    payment = Payment(
        user=user.id,
        order=order_id,
        status=PaymentStatus.SUCCESSFUL,
        amount=Decimal("2.00"),
        currency="usd",
        external_payment_id="pi_paid_2",
    )
    await payment.save()
    fake_stripe.replies.append((200, {"id": "re_2", "object": "refund", "amount": 200, "status": "failed"}))

    response = await client.post(f"/payments/{payment.id}/refund", headers=admin.headers)

    assert (response.status_code, response.json()["code"]) == (502, "payment_gateway_error")
    assert (await payment_row(int(payment.id)))["status"] == "successful"
    assert (await order_state(order_id))[0] == "paid"
