"""Refunds: the owner's request, the admin's approval (API and CLI), rejection, listing.

docs/api.md, "Orders" and "Payments": POST /orders/{id}/refund (owner, paid order, 202;
409 otherwise or when one is open); POST /payments/{id}/refund (ADMIN) refunds
through the gateway: payment refunded, order canceled, purchases revoked
(counters back), request refunded, email. `cinema refunds list|approve|reject`
and `cinema payments list|show` with --json.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from cinema.commerce.tables import RefundRequest
from cinema.config import get_settings
from tests.cli_support import cinema_process
from tests.commerce.payments_helpers import (
    movie_counters,
    order_state,
    payment_row,
    purchased_movie_ids,
    refund_requests_of,
    subjects,
)
from tests.conftest import free_port, text_of


@dataclass
class Paid:
    user: Any
    order_id: int
    payment_id: int
    movie_ids: list[int]


@pytest.fixture
def paid(client, make_user, make_movie, make_order) -> Callable[..., Awaitable[Paid]]:
    """A user's order of two movies paid through the sandbox gateway (emails of the payment flushed)."""

    async def make(user: Any = None) -> Paid:
        user = user or await make_user()
        movies = [await make_movie(price="7.77"), await make_movie(price="17.99")]
        order_id = await make_order(user.id, [m.id for m in movies])
        payment_id = (await client.post(f"/payments/{order_id}", headers=user.headers)).json()["payment_id"]
        done = await client.post(f"/payments/{payment_id}/sandbox/succeed", headers=user.headers)
        assert done.json()["status"] == "successful"
        return Paid(user, order_id, payment_id, [m.id for m in movies])

    return make


def cinema_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the `cinema` command in a subprocess on the test database (same environment)."""
    return subprocess.run(  # noqa: S603 - this interpreter, fixed module, test arguments
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )


async def test_owner_requests_a_refund_of_a_paid_order(client, paid):
    p = await paid()

    response = await client.post(
        f"/orders/{p.order_id}/refund", json={"reason": "Wrong movie"}, headers=p.user.headers
    )
    again = await client.post(
        f"/orders/{p.order_id}/refund/", json={"reason": "Please"}, headers=p.user.headers
    )

    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "requested"
    assert body["reason"] == "Wrong movie"
    assert (body["order_id"], body["user_id"], body["payment_id"]) == (p.order_id, p.user.id, p.payment_id)
    assert body["decided_at"] is None
    assert body["external_refund_id"] is None
    assert (again.status_code, again.json()["code"]) == (409, "refund_already_requested")
    assert len(await refund_requests_of(p.order_id)) == 1
    assert (await order_state(p.order_id))[0] == "paid"  # nothing moves until an admin approves


async def test_refund_request_rules(client, make_user, make_movie, make_order, paid):
    p = await paid()
    other = await make_user()
    pending_order = await make_order(p.user.id, [(await make_movie()).id])

    not_paid = await client.post(
        f"/orders/{pending_order}/refund", json={"reason": "x"}, headers=p.user.headers
    )
    not_mine = await client.post(f"/orders/{p.order_id}/refund", json={"reason": "x"}, headers=other.headers)
    empty = await client.post(f"/orders/{p.order_id}/refund", json={"reason": ""}, headers=p.user.headers)
    blank = await client.post(f"/orders/{p.order_id}/refund", json={"reason": "    "}, headers=p.user.headers)
    too_long = await client.post(
        f"/orders/{p.order_id}/refund", json={"reason": "x" * 2001}, headers=p.user.headers
    )
    anonymous = await client.post(f"/orders/{p.order_id}/refund", json={"reason": "x"})

    assert (not_paid.status_code, not_paid.json()["code"]) == (409, "not_paid")
    assert (not_mine.status_code, not_mine.json()["code"]) == (404, "order_not_found")
    assert empty.status_code == 422
    assert blank.status_code == 422, blank.text
    assert too_long.status_code == 422
    assert anonymous.status_code == 401
    assert await refund_requests_of(p.order_id) == []


async def test_admin_refund_through_the_api(client, make_user, paid, outbox):
    admin = await make_user(group=GroupName.ADMIN)
    p = await paid()
    await client.post(
        f"/orders/{p.order_id}/refund", json={"reason": "Changed my mind"}, headers=p.user.headers
    )
    assert [await movie_counters(m) for m in p.movie_ids] == [(1, 1), (1, 1)]
    before = len(await outbox())  # the payment email is not what this test is about

    response = await client.post(f"/payments/{p.payment_id}/refund", headers=admin.headers)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "refunded"
    assert (await payment_row(p.payment_id))["status"] == "refunded"
    assert await order_state(p.order_id) == ("canceled", Decimal("25.76"))
    assert await purchased_movie_ids(p.user.id) == []
    assert [await movie_counters(m) for m in p.movie_ids] == [(0, 0), (0, 0)]
    [request] = await refund_requests_of(p.order_id)
    assert request["status"] == "refunded"
    assert request["external_refund_id"].startswith("re_sandbox_")
    assert request["decided_at"] is not None
    mails = (await outbox())[before:]
    assert subjects(mails) == [f"Refund for order #{p.order_id}"]
    assert "25.76 USD" in text_of(mails[0])

    twice = await client.post(f"/payments/{p.payment_id}/refund", headers=admin.headers)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_refunded")
    # The order is canceled now: nothing left to refund.
    assert (
        await client.post(f"/orders/{p.order_id}/refund", json={"reason": "x"}, headers=p.user.headers)
    ).status_code == 409


async def test_admin_refund_rules(client, make_user, make_movie, make_order, paid):
    admin = await make_user(group=GroupName.ADMIN)
    moderator = await make_user(group=GroupName.MODERATOR)
    p = await paid()
    user = await make_user()
    pending_id = (
        await client.post(
            f"/payments/{await make_order(user.id, [(await make_movie()).id])}", headers=user.headers
        )
    ).json()["payment_id"]

    assert (
        await client.post(f"/payments/{p.payment_id}/refund", headers=moderator.headers)
    ).status_code == 403
    assert (await client.post(f"/payments/{p.payment_id}/refund", headers=p.user.headers)).status_code == 403
    not_paid = await client.post(f"/payments/{pending_id}/refund", headers=admin.headers)
    assert (not_paid.status_code, not_paid.json()["code"]) == (409, "not_refundable")
    assert (await client.post("/payments/987654/refund", headers=admin.headers)).status_code == 404
    assert (await payment_row(p.payment_id))["status"] == "successful"


async def test_refund_gateway_failure_changes_nothing(client, make_user, paid, monkeypatch, outbox):
    admin = await make_user(group=GroupName.ADMIN)
    p = await paid()
    before = len(await outbox())
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_unreachable")
    monkeypatch.setenv("PAYMENT_GATEWAY", "stripe")
    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()

    response = await client.post(f"/payments/{p.payment_id}/refund", headers=admin.headers)

    assert (response.status_code, response.json()["code"]) == (502, "payment_gateway_error")
    assert (await payment_row(p.payment_id))["status"] == "successful"
    assert (await order_state(p.order_id))[0] == "paid"
    assert await purchased_movie_ids(p.user.id) == sorted(p.movie_ids)
    assert len(await outbox()) == before


async def test_cli_lists_and_approves_a_request(client, paid, outbox):
    p = await paid()
    request_id = (
        await client.post(
            f"/orders/{p.order_id}/refund", json={"reason": "Duplicate"}, headers=p.user.headers
        )
    ).json()["id"]
    before = len(await outbox())

    listed = cinema_cli("refunds", "list", "--status", "requested", "--json")
    assert listed.returncode == 0, listed.stderr
    page = json.loads(listed.stdout)
    assert [(r["id"], r["order_id"], r["reason"]) for r in page["items"]] == [
        (request_id, p.order_id, "Duplicate")
    ]

    approved = cinema_cli("refunds", "approve", str(request_id), "--json")

    assert approved.returncode == 0, approved.stderr
    assert json.loads(approved.stdout)["status"] == "refunded"
    assert (await payment_row(p.payment_id))["status"] == "refunded"
    assert (await order_state(p.order_id))[0] == "canceled"
    assert await purchased_movie_ids(p.user.id) == []
    assert subjects((await outbox())[before:]) == [f"Refund for order #{p.order_id}"]

    # The operator has no account: nobody is recorded as the decider.
    assert (await refund_requests_of(p.order_id))[0]["decided_by"] is None

    again = cinema_cli("refunds", "approve", str(request_id))
    assert again.returncode == 1
    assert "This refund request is already decided." in again.stderr
    assert "(refund_not_open" in again.stderr


async def test_cli_rejects_a_request_with_a_note(client, paid, outbox):
    p = await paid()
    request_id = (
        await client.post(f"/orders/{p.order_id}/refund", json={"reason": "Meh"}, headers=p.user.headers)
    ).json()["id"]
    before = len(await outbox())

    rejected = cinema_cli("refunds", "reject", str(request_id), "--note", "You watched it twice.")

    assert rejected.returncode == 0, rejected.stderr
    assert "rejected" in rejected.stdout
    assert [r["status"] for r in await refund_requests_of(p.order_id)] == ["rejected"]
    stored = (
        await RefundRequest.select(RefundRequest.decision_note).where(RefundRequest.id == request_id).run()
    )
    assert stored == [{"decision_note": "You watched it twice."}]
    assert (await order_state(p.order_id))[0] == "paid"
    [mail] = (await outbox())[before:]
    assert mail["Subject"] == f"Refund request for order #{p.order_id}"
    assert "You watched it twice." in text_of(mail)
    # A rejected request no longer blocks a new one.
    new = await client.post(f"/orders/{p.order_id}/refund", json={"reason": "Again"}, headers=p.user.headers)
    assert new.status_code == 202


async def test_cli_decisions_as_a_staff_account_record_who_decided(client, make_user, paid):
    admin = await make_user(group=GroupName.ADMIN)
    moderator = await make_user(group=GroupName.MODERATOR)
    p = await paid()
    request_id = (
        await client.post(f"/orders/{p.order_id}/refund", json={"reason": "Meh"}, headers=p.user.headers)
    ).json()["id"]

    too_low = cinema_cli("refunds", "reject", str(request_id), "--note", "No.", "--as", moderator.email)
    unknown = cinema_cli("refunds", "reject", str(request_id), "--note", "No.", "--as", "nobody@example.com")
    rejected = cinema_cli("refunds", "reject", str(request_id), "--note", "No.", "--as", admin.email.upper())

    assert (too_low.returncode, unknown.returncode) == (1, 1)
    assert "(permission_denied" in too_low.stderr
    assert "(user_not_found" in unknown.stderr
    assert rejected.returncode == 0, rejected.stderr
    [row] = await refund_requests_of(p.order_id)
    assert (row["status"], row["decided_by"]) == ("rejected", admin.id)


async def test_cli_with_redis_unreachable_is_one_line_and_exit_3(client, paid):
    p = await paid()
    request_id = (
        await client.post(f"/orders/{p.order_id}/refund", json={"reason": "Meh"}, headers=p.user.headers)
    ).json()["id"]

    result = cinema_process(
        "refunds",
        "reject",
        str(request_id),
        "--note",
        "No.",
        env={"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
    )

    assert result.returncode == 3, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Error: cannot reach Redis at redis://127.0.0.1:")
    assert "REDIS_URL" in line
    assert "Traceback" not in result.stderr


async def test_cli_payments_list_and_show(paid):
    p = await paid()

    listed = cinema_cli("payments", "list", "--user-id", str(p.user.id), "--status", "successful", "--json")
    shown = cinema_cli("payments", "show", str(p.payment_id), "--json")
    table = cinema_cli("payments", "list")
    missing = cinema_cli("payments", "show", "999999")

    assert listed.returncode == 0, listed.stderr
    page = json.loads(listed.stdout)
    assert (page["total"], [i["id"] for i in page["items"]]) == (1, [p.payment_id])
    assert json.loads(shown.stdout)["amount"] == "25.76"
    assert [i["price_at_payment"] for i in json.loads(shown.stdout)["items"]] == ["7.77", "17.99"]
    assert table.returncode == 0
    assert "25.76" in table.stdout
    assert missing.returncode == 1
    assert "(payment_not_found" in missing.stderr


async def test_admin_refund_racing_stripes_refund_event_applies_once(
    client, make_user, paid, outbox, monkeypatch
):
    from cinema.money import to_minor_units
    from tests.commerce.payments_helpers import WEBHOOK_SECRET, refund_event, sign

    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    get_settings.cache_clear()
    admin = await make_user(group=GroupName.ADMIN)
    p = await paid()
    before = len(await outbox())
    intent_id = (await payment_row(p.payment_id))["external_payment_id"]
    cents = to_minor_units(Decimal("25.76"), "usd")
    bodies = [refund_event(f"evt_race_{i}", intent_id, cents) for i in range(3)]

    results = await asyncio.gather(
        client.post(f"/payments/{p.payment_id}/refund", headers=admin.headers),
        *(client.post("/webhooks/stripe", content=b, headers={"Stripe-Signature": sign(b)}) for b in bodies),
    )

    assert all(r.status_code in (200, 409) for r in results), [r.text for r in results]
    assert (await payment_row(p.payment_id))["status"] == "refunded"
    assert (await order_state(p.order_id))[0] == "canceled"
    assert [await movie_counters(m) for m in p.movie_ids] == [(0, 0), (0, 0)]
    assert subjects((await outbox())[before:]) == [f"Refund for order #{p.order_id}"]


async def test_refund_reason_is_stored_stripped(client, paid):
    from cinema.commerce.refunds import request_refund
    from cinema.errors import ValidationFailed

    p = await paid()
    with pytest.raises(ValidationFailed):
        await request_refund(p.user.actor, p.order_id, " \t ")

    response = await client.post(
        f"/orders/{p.order_id}/refund", json={"reason": "  Wrong movie  "}, headers=p.user.headers
    )

    assert response.status_code == 202, response.text
    assert response.json()["reason"] == "Wrong movie"
