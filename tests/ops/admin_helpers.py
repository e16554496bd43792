"""Helpers for the Piccolo Admin tests: signing in, and a database with a row in every table.

`sign_in` posts the admin's login form. piccolo_admin limits those per client
address in memory (20 per 5 minutes, for the whole test app), so tests that
only need a signed-in person use `open_admin_session`, which stores the
session the login would store and sets its cookie.

`build_world` fills every table through the services (a purchase, a refund
request, comments, likes...), and collects every secret stored on the way, so
tests can check that no admin answer ever contains one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx

from cinema.accounts import onetime
from cinema.accounts.actor import CurrentUser
from cinema.accounts.tables import (
    ActivationToken,
    GroupName,
    LoginFailure,
    MailRequest,
    PasswordResetToken,
    RefreshToken,
    User,
    UserGroup,
    UserProfile,
)
from cinema.admin import AdminSession
from cinema.catalog import movies
from cinema.catalog.schemas import MovieCreate
from cinema.commerce import carts, events, orders, payments, refunds
from cinema.commerce.tables import Payment
from cinema.interactions import comments, favorites, ratings, reactions
from cinema.interactions.tables import ReactionKind
from cinema.media.tables import AssetStatus, MediaAsset, MediaKind, WatchProgress
from cinema.piccolo_app import TABLES


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    """Sign in like the admin's login page does (CSRF cookie + header); returns the login response."""
    page = await client.get("/admin/")
    assert page.status_code == 200
    return await client.post(
        "/admin/public/login/",
        json={"username": email, "password": password},
        headers=csrf(client),
    )


async def open_admin_session(client: httpx.AsyncClient, user_id: int) -> None:
    """Be signed in to the admin as `user_id` (the session the login form would make)."""
    client.cookies.clear()
    assert (await client.get("/admin/")).status_code == 200  # the CSRF cookie
    session = await AdminSession.create_session(user_id)
    client.cookies.set("id", session.token)


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRFToken": client.cookies["csrftoken"]}


async def group_id(group: GroupName) -> int:
    row = await UserGroup.select(UserGroup.id).where(UserGroup.name == group.value).first().run()
    assert row is not None
    return int(row["id"])


@dataclass
class World:
    """A row in every table, made through the services; ids of the interesting ones."""

    admin: Any
    moderator: Any
    buyer: Any
    movie_id: int  # bought by the buyer (its order is paid), commented, liked, rated
    other_movie_id: int  # in the buyer's cart
    order_id: int
    payment_id: int
    refund_request_id: int
    comment_id: int  # by the moderator
    reply_id: int  # the buyer's reply to it
    #: Every secret stored (password and token hashes, client secrets, raw tokens handed out).
    secrets: list[str] = field(default_factory=list)


async def build_world(make_user: Any) -> World:
    admin = await make_user(group=GroupName.ADMIN)
    moderator = await make_user(group=GroupName.MODERATOR)
    buyer = await make_user(group=GroupName.USER)
    await UserProfile(user=buyer.id, first_name="Bea").save()
    activation = await onetime.issue(ActivationToken, buyer.id, timedelta(hours=1))
    reset = await onetime.issue(PasswordResetToken, buyer.id, timedelta(hours=1))
    await LoginFailure(email=buyer.email, client_ip="10.0.0.1").save()
    await MailRequest(kind="password_reset", email=buyer.email, client_ip="10.0.0.1").save()

    staff = CurrentUser(id=admin.id, email=admin.email, group=GroupName.ADMIN, session_id="")
    movie = await movies.create_movie(
        staff,
        MovieCreate(
            name="Heat",
            year=1995,
            time=170,
            imdb=8.3,
            votes=1000,
            description="A crime saga.",
            price=Decimal("9.99"),
            certification="R",
            genres=["Crime", "Drama"],
            directors=["Michael Mann"],
            stars=["Al Pacino", "Robert De Niro"],
        ),
    )
    other = await movies.create_movie(
        staff,
        MovieCreate(
            name="Alien",
            year=1979,
            time=117,
            imdb=8.5,
            price=Decimal("4.50"),
            certification="R",
            genres=["Horror"],
            directors=["Ridley Scott"],
            stars=["Sigourney Weaver"],
        ),
    )
    await reactions.set_reaction(buyer.id, movie.id, ReactionKind.LIKE)
    await ratings.set_rating(buyer.id, movie.id, 9)
    await favorites.add_favorite(buyer.id, movie.id)
    comment = await comments.create_comment(moderator.id, movie.id, "Great heist.")
    reply = await comments.create_comment(buyer.id, movie.id, "Agreed.", parent_id=comment.id)
    await comments.like_comment(buyer.id, comment.id)

    await carts.add_to_cart(buyer.actor, movie.id)
    order = (await orders.create_order(buyer.actor)).order
    payment = await payments.create_payment(buyer.actor, order.id)
    await events.sandbox_outcome(buyer.actor, payment.payment_id, succeed=True)
    request = await refunds.request_refund(buyer.actor, order.id, "Bought it twice.")
    await carts.add_to_cart(buyer.actor, other.id)
    await MediaAsset(
        movie=movie.id,
        kind=MediaKind.POSTER,
        status=AssetStatus.READY,
        storage_key="posters/heat.png",
        content_type="image/png",
        size_bytes=68,
        upload_id="secret-multipart-upload-id",
    ).save()
    await WatchProgress(user=buyer.id, movie=movie.id, position_seconds=12.5).save()

    world = World(
        admin=admin,
        moderator=moderator,
        buyer=buyer,
        movie_id=movie.id,
        other_movie_id=other.id,
        order_id=order.id,
        payment_id=payment.payment_id,
        refund_request_id=request.id,
        comment_id=comment.id,
        reply_id=reply.id,
    )
    world.secrets += [activation, reset]
    world.secrets += [h.refresh_token for h in (admin, moderator, buyer)]
    world.secrets += [str(r["password"]) for r in await User.select(User.password.as_alias("password")).run()]
    for table in (ActivationToken, PasswordResetToken, RefreshToken):
        world.secrets += [str(r["token"]) for r in await table.select(table.token).run()]
    world.secrets += [str(r["client_secret"]) for r in await Payment.select(Payment.client_secret).run()]
    return world


async def admin_session_tokens() -> list[str]:
    return [str(r["token"]) for r in await AdminSession.select(AdminSession.token).run()]


async def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but the admin's own sessions), to show that a refused write changed nothing."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    for table in TABLES:
        rows = await table.select().order_by(table._meta.primary_key).run()
        state[table._meta.tablename] = [tuple(sorted(row.items())) for row in rows]
    return state
