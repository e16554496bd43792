"""HTTP routes for the cart (API.md "Cart"). Thin: parse, call one service function, render.

`/cart...` acts on the caller's own cart; `/carts/{user_id}...` on any user's
cart, for MODERATOR and above.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from cinema.api.deps import Moderator, User
from cinema.api.responses import json_model
from cinema.commerce import carts
from cinema.commerce.schemas import CartItemIn, CartItemOut, CartOut
from cinema.db import MAX_ID

router = APIRouter(tags=["cart"])

MovieId = Annotated[int, Path(ge=1, le=MAX_ID, description="Movie id")]
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="The cart owner's user id")]


@router.get("/cart", response_model=CartOut, summary="My cart")
async def my_cart(user: User) -> Response:
    """The caller's cart: items at today's prices and their `total`."""
    return json_model(await carts.get_cart(user.id, actor=user))


@router.post(
    "/cart/items",
    response_model=CartItemOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a movie to my cart",
    responses={
        404: {"description": "Unknown movie"},
        409: {"description": "Bought, pending or already in cart"},
    },
)
async def add_item(body: CartItemIn, user: User) -> CartItemOut:
    """409 `already_purchased`, `in_pending_order` or `already_in_cart`; 404 `movie_not_found`."""
    return await carts.add_to_cart(user.id, body.movie_id, actor=user)


@router.delete(
    "/cart/items/{movie_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a movie from my cart"
)
async def remove_item(movie_id: MovieId, user: User) -> Response:
    """404 `not_in_cart` when the movie is not in the cart."""
    await carts.remove_from_cart(user.id, movie_id, actor=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/cart", status_code=status.HTTP_204_NO_CONTENT, summary="Empty my cart")
async def clear(user: User) -> Response:
    await carts.clear_cart(user.id, actor=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/carts/{user_id}", response_model=CartOut, summary="A user's cart (moderators)")
async def user_cart(user_id: UserId, moderator: Moderator) -> CartOut:
    """404 `user_not_found` for an unknown user."""
    return await carts.get_cart(user_id, actor=moderator)


@router.delete(
    "/carts/{user_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Empty a user's cart (moderators)"
)
async def clear_user_cart(user_id: UserId, moderator: Moderator) -> Response:
    await carts.clear_cart(user_id, actor=moderator)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/carts/{user_id}/items",
    response_model=CartItemOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a movie to a user's cart (moderators)",
)
async def add_user_item(user_id: UserId, body: CartItemIn, moderator: Moderator) -> CartItemOut:
    """Same rules as `POST /cart/items`; 404 `user_not_found` for an unknown user."""
    return await carts.add_to_cart(user_id, body.movie_id, actor=moderator)
