"""Sign-up and sign-in that carry a guest cart over: commerce use cases the doors call.

Accounts know nothing of carts; a door that receives a guest cart with a
sign-up or a sign-in calls these instead of the bare accounts service.

Merging is a convenience (docs/api.md, "Cart"): the account was created, or
the session opened, before it runs, and the activation email may already be on
its way. So a failed merge (e.g. a movie deleted at the same moment: a
foreign-key violation) is logged and swallowed, never turned into a 500 for a
sign-up or sign-in that did succeed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from cinema.accounts import auth, registration
from cinema.accounts.schemas import GuestCartItem, TokenOut, UserOut
from cinema.commerce.carts import merge_guest_cart

log = logging.getLogger(__name__)


#: A guest cart: movie ids (bought) or items with their offer.
GuestItems = Sequence[int | GuestCartItem]


async def merge_cart_best_effort(user_id: int, items: GuestItems | None) -> list[int]:
    """`merge_guest_cart`, but a failure is logged and yields `[]` (nothing added)."""
    if not items:
        return []
    try:
        return await merge_guest_cart(user_id, items)
    except Exception:
        log.warning("guest cart merge failed for user %s; ignored", user_id, exc_info=True)
        return []


async def register(email: str, password: str, cart_movie_ids: GuestItems | None = None) -> UserOut:
    """Sign up (`registration.register`), then merge the guest cart into the new account's cart."""
    user = await registration.register(email, password)
    await merge_cart_best_effort(user.id, cart_movie_ids)
    return user


async def login(
    email: str, password: str, client_ip: str | None, cart_movie_ids: GuestItems | None = None
) -> TokenOut:
    """Sign in (`auth.sign_in`), then merge the guest cart into the account's cart."""
    signed_in = await auth.sign_in(email, password, client_ip)
    await merge_cart_best_effort(signed_in.user_id, cart_movie_ids)
    return signed_in.tokens
