"""HTTP routes for the cart (docs/api.md, "Cart"). Thin: authenticate, call one service function, render.

`/cart...` acts on the caller's own cart; `/carts/{user_id}...` names any
user's cart, which the service allows MODERATOR and above.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from cinema.accounts.errors import UserNotFound
from cinema.api.deps import User
from cinema.api.errors import error_responses
from cinema.api.responses import json_model
from cinema.catalog.errors import MovieNotFound
from cinema.commerce import carts
from cinema.commerce.errors import (
    AlreadyInCart,
    AlreadyPurchased,
    AlreadyRented,
    CartItemNotFound,
    InPendingOrder,
    RentalNotOffered,
    StaffOnly,
)
from cinema.commerce.schemas import CartItemIn, CartItemOut, CartOut
from cinema.db import MAX_ID
from cinema.entitlements.errors import AlreadyOwned

router = APIRouter(tags=["cart"])

MovieId = Annotated[int, Path(ge=1, le=MAX_ID, description="Movie id")]
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="The cart owner's user id")]

_ADD_ERRORS = (
    MovieNotFound,
    RentalNotOffered,
    AlreadyPurchased,
    AlreadyOwned,
    AlreadyRented,
    InPendingOrder,
    AlreadyInCart,
)


@router.get("/cart", response_model=CartOut, summary="My cart")
async def my_cart(user: User) -> Response:
    """The caller's cart: items at today's prices and their `total`."""
    return json_model(await carts.get_cart(user))


@router.post(
    "/cart/items",
    response_model=CartItemOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a movie to my cart",
    responses=error_responses(*_ADD_ERRORS),
)
async def add_item(body: CartItemIn, user: User) -> CartItemOut:
    """`offer`: `buy` (the default) or `rent` (docs/entitlements.md, "Rentals")."""
    return await carts.add_to_cart(user, body.movie_id, offer=body.offer)


@router.delete(
    "/cart/items/{movie_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a movie from my cart",
    responses=error_responses(CartItemNotFound),
)
async def remove_item(movie_id: MovieId, user: User) -> Response:
    await carts.remove_from_cart(user, movie_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/cart", status_code=status.HTTP_204_NO_CONTENT, summary="Empty my cart")
async def clear(user: User) -> Response:
    await carts.clear_cart(user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/carts/{user_id}",
    response_model=CartOut,
    summary="A user's cart (moderators)",
    responses=error_responses(StaffOnly, UserNotFound),
)
async def user_cart(user_id: UserId, user: User) -> CartOut:
    return await carts.get_cart(user, user_id)


@router.delete(
    "/carts/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Empty a user's cart (moderators)",
    responses=error_responses(StaffOnly, UserNotFound),
)
async def clear_user_cart(user_id: UserId, user: User) -> Response:
    await carts.clear_cart(user, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/carts/{user_id}/items",
    response_model=CartItemOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a movie to a user's cart (moderators)",
    responses=error_responses(StaffOnly, UserNotFound, *_ADD_ERRORS),
)
async def add_user_item(user_id: UserId, body: CartItemIn, user: User) -> CartItemOut:
    """Same rules as `POST /cart/items`."""
    return await carts.add_to_cart(user, body.movie_id, offer=body.offer, user=user_id)
