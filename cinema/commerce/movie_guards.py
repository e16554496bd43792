"""Commerce's veto on deleting a movie, registered with the catalog (cinema/catalog/guards.py).

Rules (docs/api.md, "Catalog"): a movie someone owns (a `purchases` row) or
that is in a pending order is refused with 409 `movie_purchased`; one that is
only in past (canceled) orders, which are financial records kept as they are,
with 409 `movie_in_orders`; one that sits in carts with 409 `movie_in_carts`
(and the number of `carts`) unless `force` is set, in which case deleting the
movie takes it out of those carts (`cart_items` cascade).
"""

from __future__ import annotations

from cinema import sql
from cinema.catalog.errors import MovieInCarts, MovieInOrders, MoviePurchased
from cinema.catalog.guards import register_delete_guard
from cinema.commerce.statuses import OrderStatus


@register_delete_guard
async def refuse_sold_movie(movie_id: int, *, force: bool = False) -> None:
    """Raise when orders, purchases or (without `force`) carts still hold the movie."""
    usage = (
        await sql.fetch(
            "SELECT (SELECT count(*) FROM purchases WHERE movie_id = {}) AS purchases, "
            "(SELECT count(*) FROM order_items oi JOIN orders o ON o.id = oi.order_id "
            " WHERE oi.movie_id = {} AND o.status = {}) AS pending, "
            "(SELECT count(*) FROM order_items WHERE movie_id = {}) AS ordered, "
            "(SELECT count(DISTINCT cart_id) FROM cart_items WHERE movie_id = {}) AS carts",
            movie_id,
            movie_id,
            OrderStatus.PENDING.value,
            movie_id,
            movie_id,
        )
    )[0]
    if usage["purchases"] or usage["pending"]:
        raise MoviePurchased(purchases=int(usage["purchases"]), pending_orders=int(usage["pending"]))
    if usage["ordered"]:
        raise MovieInOrders(orders=int(usage["ordered"]))
    carts = int(usage["carts"])
    if carts and not force:
        raise MovieInCarts(carts=carts)
