"""Who may see and change carts, orders, payments and refunds (`cinema.commerce.access`).

The services are called directly with each role as the `actor`, as every door
calls them: a row the actor may not see is missing (404), a staff operation
asked for by a lower role is 403 `permission_denied` naming the role it needs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.actor import CurrentUser, GroupName
from cinema.accounts.errors import UserNotFound
from cinema.commerce import carts, events, orders, payments, refunds
from cinema.commerce.errors import OrderNotFound, PaymentNotFound, StaffOnly
from cinema.commerce.statuses import OrderStatus, PaymentStatus, RefundStatus
from cinema.commerce.tables import RefundRequest
from cinema.pagination import PageParams
from tests.commerce.conftest import cart_movie_ids

#: The CLI's operator: ADMIN with no account.
OPERATOR = CurrentUser(id=0, email="operator@cli", group=GroupName.ADMIN, session_id="")


@pytest.fixture
async def cast(make_user: Any) -> dict[str, Any]:
    """An owner, another user, a moderator and an admin."""
    return {
        "owner": await make_user(),
        "stranger": await make_user(),
        "moderator": await make_user(group=GroupName.MODERATOR),
        "admin": await make_user(group=GroupName.ADMIN),
    }


async def test_a_named_cart_is_for_moderators_and_above(cast, make_movie) -> None:
    owner, stranger, moderator = cast["owner"], cast["stranger"], cast["moderator"]
    movie = await make_movie()

    assert (await carts.add_to_cart(owner.actor, movie.id)).movie_id == movie.id
    assert (await carts.get_cart(owner.actor)).user_id == owner.id
    for named in (owner.id, stranger.id):  # naming a cart, even one's own, is a staff power
        with pytest.raises(StaffOnly) as refused:
            await carts.get_cart(stranger.actor, named)
        assert (refused.value.status_code, refused.value.code) == (403, "permission_denied")
        assert refused.value.extra == {"required_group": "MODERATOR"}
    with pytest.raises(StaffOnly):
        await carts.clear_cart(stranger.actor, owner.id)

    seen = await carts.get_cart(moderator.actor, owner.email)
    assert (seen.user_id, [i.movie_id for i in seen.items]) == (owner.id, [movie.id])
    other = await make_movie()
    await carts.add_to_cart(moderator.actor, other.id, user=owner.id)
    assert await cart_movie_ids(owner.id) == sorted([movie.id, other.id])
    assert await cart_movie_ids(moderator.id) == []
    with pytest.raises(UserNotFound):
        await carts.get_cart(moderator.actor, "nobody@example.com")
    assert await carts.clear_cart(OPERATOR, owner.id) == 2


async def test_orders_are_seen_by_owner_and_moderators_and_canceled_by_owner_or_admin(
    cast, make_movie, make_order
) -> None:
    owner, stranger, moderator, admin = cast["owner"], cast["stranger"], cast["moderator"], cast["admin"]
    first = await make_order(owner.id, [(await make_movie()).id])
    second = await make_order(owner.id, [(await make_movie()).id])

    for viewer in (owner, moderator, admin):
        assert (await orders.get_order(viewer.actor, first)).user_id == owner.id
    with pytest.raises(OrderNotFound):
        await orders.get_order(stranger.actor, first)
    for outsider in (stranger, moderator):
        with pytest.raises(OrderNotFound):
            await orders.cancel_order(outsider.actor, first)

    assert (await orders.cancel_order(owner.actor, first)).status is OrderStatus.CANCELED
    assert (await orders.cancel_order(admin.actor, second)).status is OrderStatus.CANCELED
    assert [o.id for o in (await orders.list_my_orders(owner.actor, PageParams())).items] == [second, first]
    assert (await orders.list_my_orders(stranger.actor, PageParams())).total == 0


async def test_the_list_of_all_orders_is_for_moderators(cast, make_movie, make_order) -> None:
    order_id = await make_order(cast["owner"].id, [(await make_movie()).id])

    with pytest.raises(StaffOnly) as refused:
        await orders.list_orders(cast["owner"].actor)
    assert refused.value.extra == {"required_group": "MODERATOR"}
    for staff in (cast["moderator"].actor, OPERATOR):
        assert [o.id for o in (await orders.list_orders(staff)).items] == [order_id]


async def test_payments_are_seen_by_owner_and_admins(cast, make_movie, make_order) -> None:
    owner, stranger, moderator, admin = cast["owner"], cast["stranger"], cast["moderator"], cast["admin"]
    order_id = await make_order(owner.id, [(await make_movie(price="3.10")).id])
    with pytest.raises(OrderNotFound):  # paying is the owner's alone, whatever the role
        await payments.create_payment(admin.actor, order_id)
    payment_id = (await payments.create_payment(owner.actor, order_id)).payment_id

    for viewer in (owner, admin):
        assert (await payments.get_payment(viewer.actor, payment_id)).amount == Decimal("3.10")
    for outsider in (stranger, moderator):
        with pytest.raises(PaymentNotFound):
            await payments.get_payment(outsider.actor, payment_id)
        with pytest.raises(PaymentNotFound):
            await events.sandbox_outcome(outsider.actor, payment_id, succeed=True)
    with pytest.raises(StaffOnly) as refused:
        await payments.list_payments(moderator.actor, PageParams())
    assert refused.value.extra == {"required_group": "ADMIN"}
    assert [p.id for p in (await payments.list_payments(admin.actor, PageParams())).items] == [payment_id]
    assert (await payments.list_my_payments(stranger.actor, PageParams())).total == 0
    assert [p.id for p in (await payments.list_my_payments(owner.actor, PageParams())).items] == [payment_id]


async def _paid_order_with_request(owner: Any, make_movie: Any) -> tuple[int, int, int]:
    """A paid order of `owner` through the sandbox, with an open refund request: (order, payment, request)."""
    await carts.add_to_cart(owner.actor, (await make_movie(price="5.00")).id)
    order_id = (await orders.create_order(owner.actor)).order.id
    payment_id = (await payments.create_payment(owner.actor, order_id)).payment_id
    await events.sandbox_outcome(owner.actor, payment_id, succeed=True)
    request = await refunds.request_refund(owner.actor, order_id, "Bought it twice.")
    return order_id, payment_id, request.id


async def _decided_by(request_id: int) -> Any:
    row = (
        await RefundRequest.select(RefundRequest.decided_by.as_alias("decided_by"))
        .where(RefundRequest.id == request_id)
        .first()
        .run()
    )
    assert row is not None
    return row["decided_by"]


async def test_refund_decisions_are_for_admins_and_record_who_decided(cast, make_movie) -> None:
    owner, stranger, moderator, admin = cast["owner"], cast["stranger"], cast["moderator"], cast["admin"]
    order_id, payment_id, request_id = await _paid_order_with_request(owner, make_movie)

    with pytest.raises(OrderNotFound):
        await refunds.request_refund(stranger.actor, order_id, "Not mine.")
    for lower in (owner, moderator):
        for decide in (
            refunds.approve_request(lower.actor, request_id),
            refunds.reject_request(lower.actor, request_id, "No."),
            refunds.refund_payment(lower.actor, payment_id),
            refunds.list_requests(lower.actor, PageParams()),
        ):
            with pytest.raises(StaffOnly):
                await decide
    assert [r.id for r in (await refunds.list_requests(admin.actor, PageParams())).items] == [request_id]

    approved = await refunds.approve_request(admin.actor, request_id)

    assert approved.status is RefundStatus.REFUNDED
    assert await _decided_by(request_id) == admin.id
    assert (await payments.get_payment(owner.actor, payment_id)).status is PaymentStatus.REFUNDED


async def test_the_operator_decides_without_being_recorded(cast, make_movie) -> None:
    order_id, _, request_id = await _paid_order_with_request(cast["owner"], make_movie)

    rejected = await refunds.reject_request(OPERATOR, request_id, "Watched it.")

    assert (rejected.status, rejected.decision_note) == (RefundStatus.REJECTED, "Watched it.")
    assert await _decided_by(request_id) is None
    assert (await orders.get_order(OPERATOR, order_id)).status is OrderStatus.PAID
