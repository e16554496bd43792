"""The guest cart handed over at register/login, merged on a best-effort basis.

Merging is a convenience (API.md, Cart): the account was created, or the
session opened, before it runs, and the activation email may already be on its
way. So a failed merge (e.g. a movie deleted at the same moment: a foreign-key
violation) is logged and swallowed, never turned into a 500 for a sign-up or
sign-in that did succeed.
"""

from __future__ import annotations

import logging

from cinema.commerce.carts import merge_guest_cart

log = logging.getLogger(__name__)


async def merge_cart_best_effort(user_id: int, movie_ids: list[int]) -> list[int]:
    """`merge_guest_cart`, but a failure is logged and yields `[]` (nothing added)."""
    try:
        return await merge_guest_cart(user_id, movie_ids)
    except Exception:
        log.warning("guest cart merge failed for user %s; ignored", user_id, exc_info=True)
        return []
