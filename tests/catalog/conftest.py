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

import pytest

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


@contextmanager
def count_queries() -> Iterator[QueryLog]:
    """Record every SQL statement the app sends while the block runs.

    Every statement Piccolo runs, from the query builder or `Table.raw`, inside
    a transaction or not, on either engine, goes through the engine's
    `run_querystring` (DDL through `run_ddl`): the same two methods where
    Piccolo's own `log_queries` option prints them. Wrapping those two methods
    on the engine's class counts statements without depending on a driver or
    on how a connection is obtained (pool, new connection, transaction).
    """
    cls = type(engine())  # engines use __slots__: wrap the methods on the class, then restore
    log = QueryLog()
    original_qs, original_ddl = cls.run_querystring, cls.run_ddl

    async def run_querystring(self: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
        log.statements.append(str(querystring))
        return await original_qs(self, querystring, *args, **kwargs)

    async def run_ddl(self: Any, ddl: str, *args: Any, **kwargs: Any) -> Any:
        log.statements.append(ddl)
        return await original_ddl(self, ddl, *args, **kwargs)

    cls.run_querystring = run_querystring  # type: ignore[method-assign]
    cls.run_ddl = run_ddl  # type: ignore[method-assign]
    try:
        yield log
    finally:
        cls.run_querystring = original_qs  # type: ignore[method-assign]
        cls.run_ddl = original_ddl  # type: ignore[method-assign]


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
