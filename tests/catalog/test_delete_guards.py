"""Deleting a movie runs the guards other domains registered (cinema/catalog/guards.py), from every door.

Commerce registers its check through the composition root (cinema/piccolo_app.py),
which any process imports on its way to the database. So a bought movie is
refused with 409 `movie_purchased` by the service, the API, the CLI (in this
process and in a fresh one), the admin's delete button and its Delete movie
action, and stays in the catalog.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from cinema.catalog import movies
from cinema.catalog.errors import MovieInCarts, MovieInOrders, MoviePurchased
from cinema.catalog.guards import delete_guards
from cinema.catalog.schemas import MovieCreate
from cinema.catalog.tables import Movie
from cinema.commerce.movie_guards import refuse_sold_movie
from cinema.commerce.tables import CartItem, OrderStatus
from tests.catalog.conftest import OPERATOR, add_order, add_purchase, add_to_cart
from tests.cli_support import ROOT, cinema_process, in_cli_loop, invoke_cli
from tests.ops.admin_helpers import csrf, open_admin_session

REFUSED = (
    "The movie has been bought or is in a pending order; it cannot be deleted."
    " (movie_purchased; purchases: 1; pending_orders: 0)"
)


async def _movie(name: str = "Guarded") -> int:
    created = await movies.create_movie(
        OPERATOR,
        MovieCreate(name=name, year=2001, time=100, imdb=7.0, price=Decimal("3.00"), certification="PG"),
    )
    return created.id


def test_commerce_registers_its_guard_once() -> None:
    assert delete_guards().count(refuse_sold_movie) == 1


def test_a_fresh_process_has_the_guard_once_it_can_reach_the_database() -> None:
    """Importing the catalog alone registers nothing; finding the engine imports the composition root."""
    script = (
        "from cinema.catalog.guards import delete_guards\n"
        "import cinema.catalog.movies\n"
        "before = len(delete_guards())\n"
        "from cinema.db import engine\n"
        "engine()\n"
        "print(before, [g.__name__ for g in delete_guards()])\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Commerce's veto first, then media's removal of the stored objects after the commit.
    assert done.stdout.split("\n")[0] == "0 ['refuse_sold_movie', 'delete_stored_media']"


async def test_the_service_refuses_bought_ordered_and_carted_movies(make_user: Any) -> None:
    buyer = await make_user()
    bought, pending, past, carted = [await _movie(name) for name in ("Bought", "Pending", "Past", "Carted")]
    await add_purchase(buyer.id, bought)
    await add_order(buyer.id, [pending], OrderStatus.PENDING)
    await add_order(buyer.id, [past], OrderStatus.CANCELED)
    await add_to_cart(buyer.id, carted)

    with pytest.raises(MoviePurchased) as purchased:
        await movies.delete_movie(OPERATOR, bought)
    assert purchased.value.extra == {"purchases": 1, "pending_orders": 0}
    with pytest.raises(MoviePurchased) as in_pending:
        await movies.delete_movie(OPERATOR, pending, force=True)
    assert in_pending.value.extra == {"purchases": 0, "pending_orders": 1}
    with pytest.raises(MovieInOrders) as in_orders:
        await movies.delete_movie(OPERATOR, past, force=True)
    assert (in_orders.value.status_code, in_orders.value.extra) == (409, {"orders": 1})
    with pytest.raises(MovieInCarts) as in_carts:
        await movies.delete_movie(OPERATOR, carted)
    assert (in_carts.value.code, in_carts.value.extra) == ("movie_in_carts", {"carts": 1})
    assert await Movie.count() == 4

    await movies.delete_movie(OPERATOR, carted, force=True)
    assert await Movie.count() == 3
    assert await CartItem.count() == 0


async def test_the_api_and_the_admin_refuse_a_bought_movie(client: Any, make_user: Any) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    buyer = await make_user()
    movie = await _movie()
    await add_purchase(buyer.id, movie)

    api = await client.delete(f"/movies/{movie}", params={"force": "true"}, headers=moderator.headers)
    assert (api.status_code, api.json()["code"]) == (409, "movie_purchased")

    await open_admin_session(client, moderator.id)
    button = await client.delete(f"/admin/api/tables/movies/{movie}/", headers=csrf(client))
    assert (button.status_code, button.json()["code"]) == (422, "movie_purchased")
    action = await client.post(
        "/admin/api/forms/delete-movie/",
        json={"movie_id": movie, "remove_from_carts": True},
        headers=csrf(client),
    )
    assert (action.status_code, action.json()["code"]) == (422, "movie_purchased")
    assert await Movie.count() == 1


def test_the_cli_refuses_a_bought_movie_in_process_and_in_a_fresh_one(make_user: Any) -> None:
    buyer = in_cli_loop(lambda: make_user())
    movie = in_cli_loop(_movie)
    in_cli_loop(lambda: add_purchase(buyer.id, movie))

    here = invoke_cli("movies", "delete", str(movie), "--yes", "--force")
    assert here.exit_code == 1
    assert here.stderr.strip() == f"Error: {REFUSED}"

    fresh = cinema_process("movies", "delete", str(movie), "--yes", "--force")
    assert fresh.returncode == 1, fresh.stderr
    assert fresh.stderr.strip() == f"Error: {REFUSED}"
    assert in_cli_loop(Movie.count) == 1
