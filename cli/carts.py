"""`cinema carts`: view and edit any user's cart (USER is an email or an id).

The same rules as the API apply (no duplicates, nothing owned or in a
pending order, a rental only of a movie offered for rent); the commands act
as the operator (`cli.common.OPERATOR`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import OPERATOR, CinemaTyper, JsonOption, console, output, print_json, run, success
from cli.params import UserArg, id_argument

app = CinemaTyper(help="Carts.", no_args_is_help=True)

MovieArg = Annotated[int, id_argument("Movie id.", metavar="MOVIE_ID")]

ITEM_COLUMNS = ("movie_id", "name", "offer", "price", "year", "genres", "added_at")


@app.command()
def show(user: UserArg, as_json: JsonOption = False) -> None:
    """Show a user's cart with today's prices and the total."""
    from cinema.commerce import carts

    cart = run(lambda: carts.get_cart(OPERATOR, user))
    if as_json:
        print_json(cart)
        return
    rows = [{**item.model_dump(), "genres": ", ".join(item.genres)} for item in cart.items]
    output(rows, ITEM_COLUMNS, as_json=False, title=f"Cart of user {cart.user_id}")
    console.print(f"Total: [bold]{cart.total:.2f}[/bold] ({len(cart.items)} item(s))")


@app.command()
def add(
    user: UserArg,
    movie_id: MovieArg,
    rent: Annotated[bool, typer.Option("--rent", help="Rent the movie instead of buying it.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Put a movie in a user's cart, to buy it (the default) or to rent it (--rent)."""
    from cinema.commerce import carts
    from cinema.commerce.offers import Offer

    offer = Offer.RENT if rent else Offer.BUY
    item = run(lambda: carts.add_to_cart(OPERATOR, movie_id, offer=offer, user=user))
    if as_json:
        print_json(item)
        return
    to = "rent" if offer is Offer.RENT else "buy"
    success(f"Added movie {item.movie_id} ({item.name}, {item.price}) to the cart to {to}.")


@app.command()
def remove(user: UserArg, movie_id: MovieArg) -> None:
    """Take a movie out of a user's cart."""
    from cinema.commerce import carts

    run(lambda: carts.remove_from_cart(OPERATOR, movie_id, user=user))
    success(f"Removed movie {movie_id} from the cart.")


@app.command()
def clear(user: UserArg, as_json: JsonOption = False) -> None:
    """Empty a user's cart."""
    from cinema.commerce import carts

    removed = run(lambda: carts.clear_cart(OPERATOR, user))
    if as_json:
        print_json({"removed": removed})
        return
    success(f"Cart emptied ({removed} item(s) removed).")
