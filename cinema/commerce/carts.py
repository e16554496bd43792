"""Carts: add, remove, clear, view, and the guest-cart merge at register/login.

(Owned by the commerce work; the merge signature is used by accounts.)
"""

from __future__ import annotations


async def merge_guest_cart(user_id: int, movie_ids: list[int]) -> list[int]:
    """Add a guest cart's movies to the user's cart; returns the ids actually added.

    Ids already in the cart, purchased, in a pending order, or unknown are
    skipped (API.md, Cart). Until the cart service lands this adds nothing.
    """
    return []
