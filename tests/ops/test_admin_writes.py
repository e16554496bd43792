"""Every admin table, written to as a MODERATOR and as an ADMIN: the services' rules hold.

For each table of the admin, with a row in every table (`build_world`), the
test tries POST, PATCH and DELETE through the admin's HTTP API and checks the
answer: 403 where the role may not use the table, 405 where the admin offers
no such write (money tables, rows users make, ...), and the service's error
`code` where a rule refuses it (last ADMIN, weak password, duplicate movie,
a purchased movie, an entity in use...). After every refused write the whole
database is exactly as before: no half-written state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from cinema.admin.tables import specs, unlisted
from cinema.catalog.tables import Certification, Director, Genre, MovieDirector, MovieGenre, MovieStar, Star
from tests.conftest import STRONG_PASSWORD
from tests.ops.admin_helpers import World, build_world, csrf, group_id, open_admin_session, snapshot

TABLES = sorted(spec.name for spec in specs())

#: Tables a MODERATOR may open (docs/api.md roles): the catalog and comments to manage, orders and carts to look at.
MODERATOR_WRITES = {
    "movies",
    "genres",
    "stars",
    "directors",
    "certifications",
    "movie_genres",
    "movie_stars",
    "movie_directors",
    "comments",
}
MODERATOR_READS = {"orders", "order_items", "carts", "cart_items", "media_assets"}


@dataclass
class Attempt:
    method: str
    #: None: the table's root (POST); else the row.
    row: int | None
    body: dict[str, Any] | None
    status: int
    #: The service's error `code` expected in a 422 (None: none checked).
    code: str | None = None


async def _id(table: Any, **where: Any) -> int:
    query = table.select(table.id)
    for name, value in where.items():
        query = query.where(getattr(table, name) == value)
    row = await query.order_by(table.id).first().run()
    assert row is not None, (table, where)
    return int(row["id"])


async def plan(table: str, world: World, echo: dict[str, Any], row: int) -> list[Attempt]:
    """What each write to `table` must answer for an ADMIN (a MODERATOR with write access gets the same)."""
    if table == "users":
        user = await group_id(GroupName.USER)
        return [
            Attempt(
                "POST",
                None,
                {
                    "email": world.buyer.email.upper(),
                    "password": STRONG_PASSWORD,
                    "group": user,
                    "active": True,
                },
                422,
                "email_taken",
            ),
            Attempt(
                "POST",
                None,
                {"email": "new@example.com", "password": "weak", "group": user},
                422,
                "weak_password",
            ),
            Attempt(
                "POST", None, {"email": "not an email", "password": STRONG_PASSWORD}, 422, "invalid_email"
            ),
            Attempt("PATCH", row, {"group": user}, 422, "last_admin"),
            Attempt("PATCH", row, {"active": False}, 422, "last_admin"),
            Attempt("PATCH", row, {"password": "weak"}, 422, "weak_password"),
            Attempt("PATCH", row, {"email": world.moderator.email}, 422, "email_taken"),
            # All or nothing: a valid email with a refused demotion leaves the email as it was.
            Attempt("PATCH", row, {"email": "renamed@example.com", "group": user}, 422, "last_admin"),
            Attempt("PATCH", row, {"admin": False, "superuser": False}, 422, "validation_error"),
            Attempt("DELETE", row, None, 422, "last_admin"),
        ]
    if table == "movies":
        cert = await _id(Certification, name="R")
        body = {
            "name": "Heat",
            "year": 1995,
            "time": 170,
            "imdb": 7.0,
            "price": "5.00",
            "certification": cert,
        }
        return [
            Attempt("POST", None, body, 422, "duplicate_movie"),
            Attempt("POST", None, {**body, "name": "Heat 2", "price": "0.00"}, 422, "invalid_price"),
            Attempt("POST", None, {**body, "name": "Heat 2", "year": 99999}, 422, "validation_error"),
            Attempt("PATCH", row, {"price": "0.00"}, 422, "invalid_price"),
            Attempt("PATCH", row, {"name": "Alien", "year": 1979, "time": 117}, 422, "duplicate_movie"),
            Attempt("PATCH", row, {"imdb": 55}, 422, "validation_error"),
            Attempt("PATCH", row, {"likes": 999}, 422, "validation_error"),
            Attempt("DELETE", row, None, 422, "movie_purchased"),
        ]
    if table in ("genres", "stars", "directors", "certifications"):
        taken = {
            "genres": "Drama",
            "stars": "Robert De Niro",
            "directors": "Ridley Scott",
            "certifications": "R",
        }
        return [
            Attempt("POST", None, {"name": taken[table]}, 422, "duplicate_name"),
            Attempt("POST", None, {"name": "a\x00b"}, 422, "validation_error"),
            Attempt("PATCH", row, {"name": "   "}, 422, "validation_error"),
            *(
                [Attempt("PATCH", row, {"name": taken[table]}, 422, "duplicate_name")]
                if table != "certifications"
                else []
            ),
            Attempt("DELETE", row, None, 422, "in_use"),
        ]
    if table in ("movie_genres", "movie_stars", "movie_directors"):
        entity = {"movie_genres": "genre", "movie_stars": "star", "movie_directors": "director"}[table]
        return [
            Attempt("POST", None, {"movie": world.movie_id, entity: echo[entity]}, 422, "already_linked"),
            Attempt("POST", None, {"movie": 999999, entity: echo[entity]}, 422, "movie_not_found"),
            Attempt("PATCH", row, {"movie": world.other_movie_id}, 405),
        ]
    if table == "comments":
        return [
            Attempt("POST", None, {k: v for k, v in echo.items() if k != "id"}, 405),
            Attempt("PATCH", row, {"text": "Edited by staff."}, 405),
        ]
    # Read-only rows: money state, rows their users make, tokens, sessions.
    changed = dict(echo)
    changed.pop("id", None)
    if "status" in changed:
        changed["status"] = "refunded" if table in ("payments", "refund_requests") else "canceled"
    return [
        Attempt("POST", None, {k: v for k, v in echo.items() if k != "id"}, 405),
        Attempt("PATCH", row, changed, 405),
        Attempt("PATCH", row, {}, 405),
        Attempt("DELETE", row, None, 405),
    ]


async def row_of(table: str, world: World) -> int:
    """The row each table's attempts aim at: the one whose rules matter most."""
    chosen = {
        "users": world.admin.id,
        "movies": world.movie_id,
        "orders": world.order_id,
        "payments": world.payment_id,
        "refund_requests": world.refund_request_id,
        "comments": world.comment_id,
    }
    if table in chosen:
        return int(chosen[table])
    if table == "genres":
        return await _id(Genre, name="Crime")
    if table == "stars":
        return await _id(Star, name="Al Pacino")
    if table == "directors":
        return await _id(Director, name="Michael Mann")
    if table == "certifications":
        return await _id(Certification, name="R")
    link = {"movie_genres": MovieGenre, "movie_stars": MovieStar, "movie_directors": MovieDirector}
    if table in link:
        return await _id(link[table], movie=world.movie_id)
    spec = next(s for s in specs() if s.name == table)
    return await _id(spec.table)


def test_the_plan_covers_every_admin_table() -> None:
    """A table added to the app must get a TableSpec, and be added here with what each write must answer."""
    assert unlisted() == []
    names = set(TABLES)
    assert names >= MODERATOR_WRITES | MODERATOR_READS
    assert len(names) == 35


@pytest.mark.parametrize("role", [GroupName.MODERATOR, GroupName.ADMIN])
async def test_writes_to_every_table_follow_the_service_rules(client, make_user, role) -> None:
    # One world for all tables (each refused write must leave it exactly as it was).
    world = await build_world(make_user)
    staff = world.admin if role is GroupName.ADMIN else world.moderator
    wrong: list[str] = []
    for table in TABLES:
        row = await row_of(table, world)
        await open_admin_session(client, world.admin.id)
        echo = (await client.get(f"/admin/api/tables/{table}/{row}/")).json()
        attempts = await plan(table, world, echo, row)
        await open_admin_session(client, staff.id)

        listing = await client.get(f"/admin/api/tables/{table}/")
        may_read = role is GroupName.ADMIN or table in MODERATOR_WRITES | MODERATOR_READS
        if listing.status_code != (200 if may_read else 403):
            wrong.append(f"GET {table}: {listing.status_code} {listing.text[:200]}")
        may_write = role is GroupName.ADMIN or table in MODERATOR_WRITES

        before = await snapshot()
        for attempt in attempts:
            path = f"/admin/api/tables/{table}/" + (f"{attempt.row}/" if attempt.row is not None else "")
            response = await client.request(attempt.method, path, json=attempt.body, headers=csrf(client))
            expected = attempt.status if may_write else 403
            code = response.json().get("code") if response.status_code == 422 else None
            if response.status_code != expected or (may_write and attempt.code and code != attempt.code):
                wrong.append(
                    f"{attempt.method} {table} {attempt.body}: {response.status_code} {response.text[:300]}"
                )
            if await snapshot() != before:
                wrong.append(f"{attempt.method} {table} {attempt.body}: changed the database")
                before = await snapshot()
    assert wrong == []
