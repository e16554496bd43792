"""`cinema carts show|add|remove|clear USER` against the real database (sync tests: see conftest)."""

from __future__ import annotations

import json
from typing import Any

from tests.cli_support import in_cli_loop
from tests.commerce.conftest import cart_movie_ids


def test_carts_add_show_remove_clear(cli: Any, make_user: Any, make_movie: Any) -> None:
    user = in_cli_loop(lambda: make_user(email="Viewer@Example.com"))
    heat = in_cli_loop(lambda: make_movie(name="Heat", price="7.77", year=1995, genres=("Crime", "Action")))
    alien = in_cli_loop(lambda: make_movie(name="Alien", price="0.29"))

    added = cli("carts", "add", "viewer@example.com", str(heat.id))
    assert added.exit_code == 0, added.output
    assert "Heat" in added.stdout
    added = cli("carts", "add", str(user.id), str(alien.id), "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["price"] == "0.29"

    shown = cli("carts", "show", "VIEWER@example.com", "--json")
    assert shown.exit_code == 0, shown.output
    cart = json.loads(shown.stdout)
    assert cart["user_id"] == user.id
    assert [i["movie_id"] for i in cart["items"]] == [heat.id, alien.id]
    assert cart["items"][0]["genres"] == ["Action", "Crime"]
    assert cart["total"] == "8.06"

    table = cli("carts", "show", str(user.id))
    assert table.exit_code == 0
    assert "Heat" in table.stdout
    assert "Alien" in table.stdout
    assert "8.06" in table.stdout

    removed = cli("carts", "remove", str(user.id), str(heat.id))
    assert removed.exit_code == 0, removed.output
    assert in_cli_loop(lambda: cart_movie_ids(user.id)) == [alien.id]

    cleared = cli("carts", "clear", user.email, "--json")
    assert cleared.exit_code == 0, cleared.output
    assert json.loads(cleared.stdout) == {"removed": 1}
    assert in_cli_loop(lambda: cart_movie_ids(user.id)) == []


def test_carts_errors_exit_1_in_red(cli: Any, make_user: Any, make_movie: Any, make_purchase: Any) -> None:
    user = in_cli_loop(lambda: make_user())
    movie = in_cli_loop(lambda: make_movie())
    in_cli_loop(lambda: make_purchase(user.id, movie.id))

    unknown_user = cli("carts", "show", "nobody@example.com")
    assert unknown_user.exit_code == 1
    assert "user_not_found" in unknown_user.stderr

    bought = cli("carts", "add", user.email, str(movie.id))
    assert bought.exit_code == 1
    assert "already_purchased" in bought.stderr

    missing = cli("carts", "add", user.email, "999999")
    assert missing.exit_code == 1
    assert "movie_not_found" in missing.stderr

    not_there = cli("carts", "remove", user.email, str(movie.id))
    assert not_there.exit_code == 1
    assert "not_in_cart" in not_there.stderr
    assert in_cli_loop(lambda: cart_movie_ids(user.id)) == []


def test_carts_add_rent(cli: Any, make_user: Any, make_movie: Any) -> None:
    from cinema.catalog.tables import Movie
    from cinema.money import money

    user = in_cli_loop(lambda: make_user())
    heat = in_cli_loop(lambda: make_movie(name="Heat", price="7.77"))
    alien = in_cli_loop(lambda: make_movie(name="Alien", price="5.00"))
    in_cli_loop(lambda: Movie.update({Movie.rental_price: money("1.49")}).where(Movie.id == heat.id).run())

    added = cli("carts", "add", str(user.id), str(heat.id), "--rent")
    assert added.exit_code == 0, added.output
    assert "to rent" in added.stdout
    refused = cli("carts", "add", str(user.id), str(alien.id), "--rent")
    assert refused.exit_code == 1
    assert "rental_not_offered" in refused.output

    cart = json.loads(cli("carts", "show", str(user.id), "--json").stdout)
    assert [(i["movie_id"], i["offer"], i["price"]) for i in cart["items"]] == [(heat.id, "rent", "1.49")]
    assert cart["total"] == "1.49"
