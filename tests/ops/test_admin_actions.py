"""Admin actions (piccolo_admin forms): the only way the admin changes money state.

Each calls what the CLI or the API calls: approving a refund request refunds
the payment through the gateway (the sandbox here; localstripe in the
browser test), cancels the order and takes the movies back. A MODERATOR
neither sees nor runs them.
"""

from __future__ import annotations

from typing import Any

from cinema.accounts.actor import GroupName
from cinema.commerce.tables import Order, OrderStatus, Payment, Purchase, RefundRequest
from tests.ops.admin_helpers import build_world, csrf, open_admin_session, snapshot


async def _act(client: Any, slug: str, **data: Any) -> Any:
    return await client.post(f"/admin/api/forms/{slug}/", json=data, headers=csrf(client))


async def _refund_row(request_id: int) -> dict[str, Any]:
    row = (
        await RefundRequest.select(
            RefundRequest.status,
            RefundRequest.decided_by.as_alias("decided_by"),
            RefundRequest.external_refund_id,
            RefundRequest.decision_note,
        )
        .where(RefundRequest.id == request_id)
        .first()
        .run()
    )
    assert row is not None
    return dict(row)


async def test_an_admin_approves_a_refund_and_the_buyer_loses_the_movie(client, make_user, outbox) -> None:
    world = await build_world(make_user)
    assert [
        m["id"] for m in (await client.get("/purchases", headers=world.buyer.headers)).json()["items"]
    ] == [world.movie_id]
    await open_admin_session(client, world.admin.id)
    forms = (await client.get("/admin/api/forms/grouped/")).json()
    assert [f["name"] for f in forms["grouped"]["Actions"]] == [
        "Approve refund",
        "Reject refund",
        "Refund payment",
        "Cancel order",
        "Delete movie",
    ]

    done = await _act(client, "approve-refund", refund_request_id=world.refund_request_id)

    assert done.status_code == 200, done.text
    refund = await _refund_row(world.refund_request_id)
    assert refund["status"] == "refunded"
    assert refund["decided_by"] == world.admin.id
    assert refund["external_refund_id"].startswith("re_sandbox_")
    assert done.json()["custom_form_success"] == (
        f"Refund request #{world.refund_request_id} approved: order #{world.order_id} refunded "
        f"(refund {refund['external_refund_id']})."
    )
    payment = await client.get(f"/payments/{world.payment_id}", headers=world.buyer.headers)
    assert payment.json()["status"] == "refunded"
    assert (await client.get("/purchases", headers=world.buyer.headers)).json()["items"] == []
    assert await Order.select(Order.status).where(Order.id == world.order_id).first().run() == {
        "status": OrderStatus.CANCELED.value
    }
    refund_mails = [m["To"] for m in await outbox() if m["Subject"] == f"Refund for order #{world.order_id}"]
    assert refund_mails == [world.buyer.email]

    again = await _act(client, "approve-refund", refund_request_id=world.refund_request_id)
    assert again.status_code == 422
    assert again.json()["code"] == "refund_not_open"
    assert again.json()["custom_form_error"] == "This refund request is already decided."


async def test_a_rejected_refund_keeps_the_purchase_and_emails_the_note(client, make_user, outbox) -> None:
    world = await build_world(make_user)
    await open_admin_session(client, world.admin.id)

    done = await _act(
        client, "reject-refund", refund_request_id=world.refund_request_id, note=" Watched it. "
    )

    assert done.status_code == 200, done.text
    refund = await _refund_row(world.refund_request_id)
    assert (refund["status"], refund["decision_note"], refund["decided_by"]) == (
        "rejected",
        "Watched it.",
        world.admin.id,
    )
    assert await Purchase.count().where(Purchase.user == world.buyer.id).run() == 1
    [mail] = [m for m in await outbox() if m["Subject"] == f"Refund request for order #{world.order_id}"]
    assert mail["To"] == world.buyer.email
    assert "declined: Watched it." in mail.get_body(("plain",)).get_content()


async def test_refund_payment_and_cancel_order_actions(client, make_user) -> None:
    world = await build_world(make_user)
    pending = Order(user=world.buyer.id, total_amount="4.50")
    await pending.save()
    await open_admin_session(client, world.admin.id)

    paid = await _act(client, "cancel-order", order_id=world.order_id)
    assert paid.status_code == 422
    assert paid.json()["code"] == "refund_required"
    canceled = await _act(client, "cancel-order", order_id=pending.id)
    assert canceled.status_code == 200, canceled.text
    assert await Order.select(Order.status).where(Order.id == pending.id).first().run() == {
        "status": "canceled"
    }

    refunded = await _act(client, "refund-payment", payment_id=world.payment_id)
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["custom_form_success"] == f"Payment #{world.payment_id} refunded (9.99 USD)."
    row = await Payment.select(Payment.status).where(Payment.id == world.payment_id).first().run()
    assert row == {"status": "refunded"}
    # The open request of that order was settled by the refund.
    assert (await _refund_row(world.refund_request_id))["status"] == "refunded"

    bad = await _act(client, "refund-payment", payment_id="first")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["payment_id"]
    missing = await _act(client, "refund-payment", payment_id=999999)
    assert (missing.status_code, missing.json()["code"]) == (422, "payment_not_found")


async def test_a_moderator_can_neither_see_nor_run_money_actions(client, make_user) -> None:
    world = await build_world(make_user)
    await open_admin_session(client, world.moderator.id)
    before = await snapshot()

    assert [f["slug"] for f in (await client.get("/admin/api/forms/")).json()] == ["delete-movie"]
    for slug, data in [
        ("approve-refund", {"refund_request_id": world.refund_request_id}),
        ("reject-refund", {"refund_request_id": world.refund_request_id, "note": "No."}),
        ("refund-payment", {"payment_id": world.payment_id}),
        ("cancel-order", {"order_id": world.order_id}),
    ]:
        assert (await client.get(f"/admin/api/forms/{slug}/schema/")).status_code == 403
        response = await _act(client, slug, **data)
        assert response.status_code == 403, (slug, response.text)
        assert response.json()["detail"] == "Only ADMIN and above may do this."

    assert await snapshot() == before
    assert world.moderator.group is GroupName.MODERATOR
