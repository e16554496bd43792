"""What a movie is sold as: bought for good, or rented (docs/entitlements.md, "Rentals").

- `buy` (the default) costs the movie's `price` and gives a `purchase`
  entitlement without end;
- `rent` costs its `rental_price` and gives a `rental` entitlement; a movie
  whose `rental_price` is null is not offered for rent (409
  `rental_not_offered`).

Carts, orders and payments price an item through `offer_price`, so the
rule lives here once.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from cinema.money import money


class Offer(enum.StrEnum):
    BUY = "buy"
    RENT = "rent"


def offer_price(offer: Offer | str, price: Any, rental_price: Any) -> Decimal | None:
    """The price of `offer` for a movie with these prices; None when the movie is not offered that way."""
    if Offer(offer) is Offer.RENT:
        return None if rental_price is None else money(rental_price)
    return None if price is None else money(price)
