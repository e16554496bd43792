"""A movie's rental offer (`rental_price`, `rental_start_days`, `rental_hours`) through the API and the CLI.

Null `rental_price`: not offered for rent; null window: the settings' defaults
(docs/entitlements.md, "Rentals").
"""

from __future__ import annotations

import json
from typing import Any

from cinema.accounts.actor import GroupName
from tests.catalog.test_writes_api import BODY, create
from tests.cli_support import invoke_cli


async def test_the_rental_offer_is_set_shown_and_withdrawn(client: Any, make_user: Any) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    plain = await create(client, moderator.headers)
    assert (plain["rental_price"], plain["rental_start_days"], plain["rental_hours"]) == (None, None, None)

    made = await create(
        client, moderator.headers, name="Rentable", rental_price="3.5", rental_start_days=7, rental_hours=72
    )
    assert (made["rental_price"], made["rental_start_days"], made["rental_hours"]) == ("3.50", 7, 72)
    detail = (await client.get(f"/movies/{made['id']}")).json()
    assert (detail["rental_price"], detail["rental_hours"]) == ("3.50", 72)
    cards = {m["id"]: m["rental_price"] for m in (await client.get("/movies")).json()["items"]}
    assert cards == {plain["id"]: None, made["id"]: "3.50"}

    changed = await client.patch(
        f"/movies/{made['id']}",
        json={"rental_price": "1.99", "rental_hours": None},
        headers=moderator.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (
        changed.json()["rental_price"],
        changed.json()["rental_start_days"],
        changed.json()["rental_hours"],
    ) == (
        "1.99",
        7,
        None,
    )
    withdrawn = await client.patch(
        f"/movies/{made['id']}", json={"rental_price": None}, headers=moderator.headers
    )
    assert withdrawn.json()["rental_price"] is None


async def test_bad_rental_values_are_422(client: Any, make_user: Any) -> None:
    moderator = await make_user(group=GroupName.MODERATOR)
    free = await client.post("/movies", json={**BODY, "rental_price": "0.00"}, headers=moderator.headers)
    assert (free.status_code, free.json()["code"]) == (422, "invalid_price")
    for field, value in (("rental_hours", 0), ("rental_start_days", 4000), ("rental_price", "-1")):
        bad = await client.post("/movies", json={**BODY, field: value}, headers=moderator.headers)
        assert bad.status_code == 422, (field, bad.text)
    made = await create(client, moderator.headers)
    patched = await client.patch(
        f"/movies/{made['id']}", json={"rental_price": "0"}, headers=moderator.headers
    )
    assert (patched.status_code, patched.json()["code"]) == (422, "invalid_price")


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_cli_sets_shows_and_withdraws_the_rental_offer() -> None:
    created = _json(
        invoke_cli(
            "movies",
            "create",
            "--name",
            "Heat",
            "--year",
            "1995",
            "--time",
            "170",
            "--imdb",
            "8.3",
            "--price",
            "9.99",
            "--certification",
            "R",
            "--rental-price",
            "2.99",
            "--rental-hours",
            "24",
            "--json",
        )
    )
    movie_id = str(created["id"])
    assert (created["rental_price"], created["rental_hours"], created["rental_start_days"]) == (
        "2.99",
        24,
        None,
    )
    shown = invoke_cli("movies", "show", movie_id)
    assert "rental_price" in shown.stdout
    assert "2.99" in shown.stdout

    updated = _json(invoke_cli("movies", "update", movie_id, "--rental-start-days", "3", "--json"))
    assert (updated["rental_price"], updated["rental_start_days"], updated["rental_hours"]) == ("2.99", 3, 24)
    reset = _json(
        invoke_cli("movies", "update", movie_id, "--default-rental-window", "--no-rental", "--json")
    )
    assert (reset["rental_price"], reset["rental_start_days"], reset["rental_hours"]) == (None, None, None)
    both = invoke_cli("movies", "update", movie_id, "--rental-price", "1.00", "--no-rental")
    assert both.exit_code == 2
