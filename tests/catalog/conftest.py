"""Catalog fixtures: the real IMDb Top 1000 imported once per module, query counting, direct rows.

Cleaning. The root `clean_database` empties every table after every test, so a
module-scoped import would be gone after the first test. This folder overrides
`clean_database` (same name, closer conftest): after each test it empties every
table, except that tests using the `imdb` fixture keep the catalog tables
(movies, the four entity tables and the three join tables). `imdb` imports the
real CSV once per module and re-imports only if the movies table is empty, so a
module of read-only tests pays for one import. Tests using `imdb` must not
change the catalog (they may write interactions and commerce rows, which are
emptied after each test). The module-scoped import empties the catalog when
its module is done.

The children-first delete on SQLite works around the root cleanup, whose
`PRAGMA foreign_keys = OFF` runs on a connection of its own (Piccolo opens one
per statement), so deleting a parent row would hit ON DELETE RESTRICT.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg.connection  # type: ignore[import-untyped]
import pytest

from cinema.accounts import actor
from cinema.accounts.tables import UserGroup
from cinema.catalog.importer import import_movies
from cinema.catalog.schemas import ImportReport
from cinema.catalog.tables import (
    Certification,
    Director,
    Genre,
    Movie,
    MovieDirector,
    MovieGenre,
    MovieStar,
    Star,
)
from cinema.clock import utcnow
from cinema.commerce.tables import Cart, CartItem, Order, OrderItem, OrderStatus, Purchase
from cinema.db import engine
from cinema.interactions.tables import Favorite
from cinema.piccolo_app import TABLES
from cinema.tasks import broker
from tests.conftest import IMDB_CSV, IS_POSTGRES, REQUIRE_SERVICES

#: The actor of service calls made by the tests themselves: the operator, with every role.
OPERATOR = actor.OPERATOR

CATALOG_TABLES = {
    t._meta.tablename
    for t in (Certification, Genre, Star, Director, Movie, MovieGenre, MovieStar, MovieDirector)
}


async def empty_tables(keep: set[str]) -> None:
    """Empty every table except the seeded groups and `keep`."""
    keep = keep | {UserGroup._meta.tablename}
    tables = [t for t in TABLES if t._meta.tablename not in keep]
    if IS_POSTGRES:
        names = ", ".join(f'"{t._meta.tablename}"' for t in tables)
        await engine().run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        for table in reversed(tables):  # TABLES lists parents before children
            await table.delete(force=True).run()


@pytest.fixture(autouse=True)
async def clean_database(database: None, request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Overrides the root cleanup for this folder (see the module docstring)."""
    yield
    await broker.wait_all()
    await empty_tables(CATALOG_TABLES if "imdb" in request.fixturenames else set())


# --- The real file ----------------------------------------------------------------


@dataclass
class Csv:
    """The IMDb CSV as the tests see it, read with the csv module (the expected answers)."""

    rows: list[dict[str, str]] = field(default_factory=list)

    def stars(self, row: dict[str, str]) -> list[str]:
        return [row[f"Star{i}"].strip() for i in range(1, 5) if row[f"Star{i}"].strip()]

    def genres(self, row: dict[str, str]) -> list[str]:
        return [g.strip() for g in row["Genre"].split(",") if g.strip()]

    def titles(self, rows: list[dict[str, str]]) -> list[tuple[str, int]]:
        return sorted((r["Series_Title"], int(r["Released_Year"])) for r in rows)


def require_imdb_csv() -> None:
    """Skip (fail under CINEMA_REQUIRE_SERVICES=1, as in CI) when the IMDb file is not there."""
    if not IMDB_CSV.exists():
        message = f"The IMDb CSV is missing: {IMDB_CSV} (set IMDB_CSV to its path)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def imdb_csv() -> Csv:
    require_imdb_csv()
    with IMDB_CSV.open(encoding="utf-8", newline="") as handle:
        return Csv(rows=list(csv.DictReader(handle)))


@pytest.fixture(scope="module")
async def _imdb_import(database: None) -> AsyncIterator[dict[str, ImportReport]]:
    """One import of the real file per module; the catalog is emptied when the module ends."""
    require_imdb_csv()
    state = {"report": await import_movies(IMDB_CSV)}
    yield state
    await empty_tables(set())


@pytest.fixture
async def imdb(_imdb_import: dict[str, ImportReport]) -> ImportReport:
    """The report of this module's import of the real file (re-imported if something emptied it)."""
    if await Movie.count() == 0:
        _imdb_import["report"] = await import_movies(IMDB_CSV)
    return _imdb_import["report"]


# --- Counting SQL statements ------------------------------------------------------


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


#: Statements that are not the application's own: transaction control and SQLite's per-connection PRAGMA.
_NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


@contextmanager
def count_queries() -> Iterator[QueryLog]:
    """Record every SQL statement the app sends to the database while the block runs.

    Counted at the driver, so nothing can bypass it: asyncpg's `Connection`
    query methods (PostgreSQL) or aiosqlite's `Connection.execute` (SQLite),
    wrapped on the class. That covers Piccolo's query builder and `Table.raw`,
    `cinema.db.fetch`, pooled, new and transaction connections alike.
    Transaction control (BEGIN/COMMIT...) and SQLite's `PRAGMA foreign_keys`
    on each new connection are left out: `count` is the application's statements.
    """
    log = QueryLog()
    if IS_POSTGRES:
        cls: Any = asyncpg.connection.Connection
        names = ("execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany")
    else:
        cls = aiosqlite.Connection
        names = ("execute", "executemany")
    originals = {name: getattr(cls, name) for name in names}

    def counted(original: Any) -> Any:
        def method(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            if not query.lstrip().upper().startswith(_NOT_COUNTED):
                log.statements.append(query)
            return original(self, query, *args, **kwargs)

        return method

    for name, original in originals.items():
        setattr(cls, name, counted(original))
    try:
        yield log
    finally:
        for name, original in originals.items():
            setattr(cls, name, original)


# --- Rows written straight to other domains' tables --------------------------------


async def movie_id(name: str, year: int | None = None) -> int:
    query = Movie.select(Movie.id).where(Movie.name == name)
    if year is not None:
        query = query.where(Movie.year == year)
    row = await query.first()
    assert row is not None, f"no movie {name!r}"
    return int(row["id"])


async def add_favorite(user_id: int, movie: int) -> None:
    await Favorite(user=user_id, movie=movie, created_at=utcnow()).save()


async def add_order(user_id: int, movies: list[int], status: OrderStatus) -> int:
    order = Order(
        user=user_id, status=status, total_amount=Decimal("9.99") * len(movies), created_at=utcnow()
    )
    await order.save()
    for movie in movies:
        await OrderItem(order=order.id, movie=movie, price_at_order=Decimal("9.99")).save()
    return int(order.id)


async def add_purchase(user_id: int, movie: int) -> int:
    order_id = await add_order(user_id, [movie], OrderStatus.PAID)
    await Purchase(user=user_id, movie=movie, order=order_id, created_at=utcnow()).save()
    return order_id


async def add_to_cart(user_id: int, movie: int) -> None:
    row = await Cart.select(Cart.id).where(Cart.user == user_id).first()
    if row is None:
        cart = Cart(user=user_id, created_at=utcnow())
        await cart.save()
        cart_id = int(cart.id)
    else:
        cart_id = int(row["id"])
    await CartItem(cart=cart_id, movie=movie, added_at=utcnow()).save()


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    """A CSV in the IMDb format (defaults fill the columns a row does not give)."""
    columns = header or [
        "Poster_Link",
        "Series_Title",
        "Released_Year",
        "Certificate",
        "Runtime",
        "Genre",
        "IMDB_Rating",
        "Overview",
        "Meta_score",
        "Director",
        "Star1",
        "Star2",
        "Star3",
        "Star4",
        "No_of_Votes",
        "Gross",
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def film(title: str, **overrides: str) -> dict[str, str]:
    """One valid CSV row; override any column."""
    row = {
        "Series_Title": title,
        "Released_Year": "2001",
        "Certificate": "PG",
        "Runtime": "100 min",
        "Genre": "Drama, Comedy",
        "IMDB_Rating": "7.5",
        "Overview": f"About {title}.",
        "Meta_score": "70",
        "Director": "Some Director",
        "Star1": "Actor One",
        "Star2": "Actor Two",
        "Star3": "",
        "Star4": "",
        "No_of_Votes": "12,345",
        "Gross": "1,234,567",
    }
    row.update(overrides)
    return row
