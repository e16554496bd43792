"""Bulk import of the IMDb Top 1000 CSV format (`cinema movies import FILE`).

Mapping: `Series_Title` -> name, `Released_Year` -> year, `Runtime`
("142 min") -> time in minutes, `IMDB_Rating` -> imdb, `No_of_Votes` ("1,234"
allowed) -> votes, `Meta_score` -> meta_score (empty: null), `Gross`
("28,341,469") -> gross (empty: null), `Overview` -> description,
`Certificate` -> certification (empty: "Not Rated"), `Genre` (comma list) ->
genres, `Director` (comma list) -> directors, `Star1`..`Star4` -> stars.
`Poster_Link` is ignored.

Prices are not in the data. `price=` sets one price for every row (and, on a
re-import, updates existing movies to it); without it, a movie *new to the
catalog* gets `default_price()` from its IMDb rating, and existing movies keep
the price they have (a moderator may have changed it).

Behaviour:
- the upsert key is (name, year, time): an existing movie whose fields differ
  is updated, one that is equal is left alone, so a second import of the same
  file reports every row unchanged and writes nothing;
- a bad row is rejected with its line number (the header is line 1) and the
  reason, and the rest is imported; a row repeating an earlier row's key is
  rejected as a duplicate; with `strict=True` any bad row aborts the import
  before anything is written;
- everything is written in one transaction, in bulk: entity names are
  resolved with one SELECT and one multi-row INSERT per batch of names, movies
  are upserted in batches by `INSERT ... ON CONFLICT (name, year, time) DO
  UPDATE ... RETURNING id`, join rows inserted in batches. On PostgreSQL a
  batch's columns travel as arrays (`INSERT ... SELECT * FROM unnest(...)`):
  5,000 movies or 100,000 join rows per statement; on SQLite as multi-row
  VALUES lists (500 movies, 4,000 join rows).
"""

from __future__ import annotations

import csv
import math
import re
import time as clock
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from cinema import sql
from cinema.catalog.entities import ensure_names
from cinema.catalog.movies import check_price
from cinema.catalog.schemas import (
    GROSS_MAX,
    TIME_MAX,
    VOTES_MAX,
    YEAR_MAX,
    YEAR_MIN,
    EntityKind,
    ImportReport,
    ParsedMovie,
    Rejection,
)
from cinema.clock import utcnow
from cinema.db import is_postgres, transaction
from cinema.errors import InvalidInput
from cinema.money import money

#: Called as `progress(done, total)` while rows are written (the CLI draws a bar with it).
Progress = Callable[[int, int], None]

NOT_RATED = "Not Rated"
#: A small hand-written catalog in the IMDb Top 1000 format, shipped with the package (the demo's default).
SAMPLE_CATALOG = Path(__file__).resolve().parent / "data" / "sample_catalog.csv"
REQUIRED_COLUMNS = ("Series_Title", "Released_Year", "Runtime", "IMDB_Rating")
STAR_COLUMNS = ("Star1", "Star2", "Star3", "Star4")
MOVIE_CHUNK = 500
JOIN_CHUNK = 4000
DESCRIPTION_MAX = 10_000

#: The default price rule: (minimum IMDb rating, price), first match wins.
PRICE_TIERS: tuple[tuple[float, Decimal], ...] = (
    (9.0, Decimal("19.99")),
    (8.5, Decimal("14.99")),
    (8.0, Decimal("12.99")),
    (7.0, Decimal("9.99")),
    (0.0, Decimal("6.99")),
)

_RUNTIME = re.compile(r"^(\d+)\s*(?:min)?$", re.IGNORECASE)
_YEAR = re.compile(r"^\d{4}$")


def default_price(imdb: float) -> Decimal:
    """Price of a newly imported movie when no `--price` is given, from its IMDb rating.

    9.0 and up: 19.99; 8.5 and up: 14.99; 8.0 and up: 12.99; 7.0 and up: 9.99;
    below: 6.99. Deterministic, so a re-import computes the same value.
    """
    for minimum, price in PRICE_TIERS:
        if imdb >= minimum:
            return price
    return PRICE_TIERS[-1][1]


def describe_default_price() -> str:
    """The default price rule in words (`9.0+: 19.99, ..., else 6.99`), for help texts."""
    *tiers, (_, floor) = PRICE_TIERS
    return ", ".join(f"{minimum}+: {price}" for minimum, price in tiers) + f", else {floor}"


class RowError(ValueError):
    """A reason to reject one CSV row."""


def _number(text: str, what: str) -> Decimal:
    cleaned = text.replace(",", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise RowError(f"unparseable {what} {text!r}") from None
    if not value.is_finite():
        raise RowError(f"unparseable {what} {text!r}")
    return value


def _name(text: str, what: str) -> str:
    name = " ".join(text.split())
    if len(name) > 255:
        raise RowError(f"{what} longer than 255 characters")
    return name


def _names(texts: list[str], what: str) -> list[str]:
    names = [_name(t, what) for t in texts]
    return list(dict.fromkeys(n for n in names if n))


def parse_row(line: int, row: dict[str, str | None]) -> ParsedMovie:
    """Validate and convert one CSV record (see the module's mapping). Raises RowError."""

    def cell(column: str) -> str:
        value = (row.get(column) or "").strip()
        if "\x00" in value:
            raise RowError(f"{column} contains a NUL character")
        return value

    name = _name(cell("Series_Title"), "title")
    if not name:
        raise RowError("missing title")
    year_text = cell("Released_Year")
    if not _YEAR.match(year_text) or not YEAR_MIN <= int(year_text) <= YEAR_MAX:
        raise RowError(f"unparseable year {year_text!r} (expected {YEAR_MIN}..{YEAR_MAX})")
    runtime = _RUNTIME.match(cell("Runtime"))
    if runtime is None or not 0 < int(runtime.group(1)) <= TIME_MAX:
        raise RowError(f"unparseable runtime {cell('Runtime')!r} (expected e.g. '142 min')")
    if not cell("IMDB_Rating"):
        raise RowError("missing IMDb rating")
    imdb = _number(cell("IMDB_Rating"), "IMDb rating")
    if not 0 <= imdb <= 10:
        raise RowError(f"IMDb rating {cell('IMDB_Rating')!r} is not within 0..10")
    votes = _number(cell("No_of_Votes"), "vote count") if cell("No_of_Votes") else Decimal(0)
    if votes != votes.to_integral_value() or not 0 <= votes <= VOTES_MAX:
        raise RowError(f"vote count {cell('No_of_Votes')!r} is not a whole number >= 0")
    meta_score: float | None = None
    if cell("Meta_score"):
        meta = _number(cell("Meta_score"), "Meta_score")
        if not 0 <= meta <= 100:
            raise RowError(f"Meta_score {cell('Meta_score')!r} is not within 0..100")
        meta_score = float(meta)
    gross: Decimal | None = None
    if cell("Gross"):
        gross = money(_number(cell("Gross"), "gross"))
        if not 0 <= gross <= GROSS_MAX:
            raise RowError(f"gross {cell('Gross')!r} is out of range")
    description = cell("Overview")
    if len(description) > DESCRIPTION_MAX:
        raise RowError(f"overview longer than {DESCRIPTION_MAX} characters")
    return ParsedMovie(
        line=line,
        name=name,
        year=int(year_text),
        time=int(runtime.group(1)),
        imdb=float(imdb),
        votes=int(votes),
        meta_score=meta_score,
        gross=gross,
        description=description,
        certification=_name(cell("Certificate"), "certificate") or NOT_RATED,
        genres=_names(cell("Genre").split(","), "genre"),
        directors=_names(cell("Director").split(","), "director"),
        stars=_names([cell(c) for c in STAR_COLUMNS], "star"),
    )


def _records(path: Path) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(first line number, record) for every data record; the header is line 1."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise InvalidInput(
                    f"{path.name} is not in the IMDb Top 1000 format: missing column(s) {', '.join(missing)}.",
                    code="invalid_file",
                )
            last = reader.line_num
            for record in reader:
                yield last + 1, record
                last = reader.line_num
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path.name} is not UTF-8 text: {exc.reason}.", code="invalid_file") from None
    except (OSError, csv.Error) as exc:
        raise InvalidInput(f"Cannot read {path}: {exc}.", code="invalid_file") from None


def parse_file(path: Path) -> tuple[list[ParsedMovie], list[Rejection]]:
    """Every valid row and every rejection (bad values, or a key repeated from an earlier line)."""
    movies: list[ParsedMovie] = []
    rejections: list[Rejection] = []
    seen: dict[tuple[str, int, int], int] = {}
    for line, record in _records(path):
        if None in record:  # more cells than the header has columns
            title = (record.get("Series_Title") or "").strip() or None
            rejections.append(Rejection(line=line, reason="more cells than header columns", title=title))
            continue
        try:
            movie = parse_row(line, record)
        except RowError as exc:
            title = (record.get("Series_Title") or "").strip() or None
            rejections.append(Rejection(line=line, reason=str(exc), title=title))
            continue
        key = (movie.name, movie.year, movie.time)
        if key in seen:
            rejections.append(
                Rejection(
                    line=line,
                    reason=f"duplicate of line {seen[key]} (same title, year and runtime)",
                    title=movie.name,
                )
            )
            continue
        seen[key] = line
        movies.append(movie)
    return movies, rejections


_RELATIONS: tuple[tuple[str, str, str, EntityKind], ...] = (
    ("genres", "movie_genres", "genre_id", EntityKind.GENRES),
    ("directors", "movie_directors", "director_id", EntityKind.DIRECTORS),
    ("stars", "movie_stars", "star_id", EntityKind.STARS),
)

_MOVIE_COLUMNS = (
    "uuid, name, year, time, imdb, votes, meta_score, gross, description, price, certification_id, "
    "created_at, updated_at"
)
#: PostgreSQL types of `_MOVIE_COLUMNS`, for `unnest`.
_MOVIE_TYPES = (
    "uuid", "text", "int", "int", "real", "int", "real", "numeric", "text", "numeric", "int",
    "timestamptz", "timestamptz",
)  # fmt: skip
_UPDATED = "imdb, votes, meta_score, gross, description, certification_id, updated_at"


async def _existing(movies: list[ParsedMovie]) -> dict[tuple[str, int, int], dict[str, Any]]:
    """Stored movies with the file's keys: their fields and their relations' entity ids in order."""
    names = list(dict.fromkeys(m.name for m in movies))
    keys = {(m.name, m.year, m.time) for m in movies}
    found: dict[tuple[str, int, int], dict[str, Any]] = {}
    size = sql.batch_size(2000, 50_000)
    for chunk in sql.chunks(names, size):
        where, args = sql.any_of("name", chunk, "text")
        rows = await sql.fetch(
            "SELECT id, name, year, time, imdb, votes, meta_score, gross, description, price, "  # noqa: S608
            f"certification_id FROM movies WHERE {where}",
            *args,
        )
        for row in rows:
            key = (row["name"], int(row["year"]), int(row["time"]))
            if key in keys:
                found[key] = {**row, "genres": [], "directors": [], "stars": []}
    by_id = {int(row["id"]): row for row in found.values()}
    for relation, table, fk, _ in _RELATIONS:
        for chunk in sql.chunks(list(by_id), size):
            where, args = sql.any_of("movie_id", chunk, "int")
            rows = await sql.fetch(
                f"SELECT movie_id, {fk} AS eid FROM {table} WHERE {where} ORDER BY id",  # noqa: S608
                *args,
            )
            for row in rows:
                by_id[int(row["movie_id"])][relation].append(int(row["eid"]))
    return found


def _same_real(a: Any, b: float | None) -> bool:
    """Equal REAL values: a float4 read back (9.300000190734863) equals the 9.3 written."""
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), b, rel_tol=1e-6, abs_tol=1e-9)


def _changed(stored: dict[str, Any], movie: ParsedMovie, ids: dict[str, Any], price_given: bool) -> bool:
    """True when the row differs from the stored movie in any imported field."""
    gross = sql.decimal_or_none(stored["gross"])
    return (
        not _same_real(stored["imdb"], movie.imdb)
        or int(stored["votes"]) != movie.votes
        or not _same_real(stored["meta_score"], movie.meta_score)
        or gross != movie.gross
        or stored["description"] != movie.description
        or int(stored["certification_id"]) != ids["certification"]
        or (price_given and money(stored["price"]) != movie.price)
        or any(stored[relation] != ids[relation] for relation, *_ in _RELATIONS)
    )


async def import_movies(
    path: Path | str,
    *,
    price: Decimal | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import an IMDb-format CSV file; returns the counts and every rejection.

    `price`: one price for every row (existing movies updated to it), at least
    0.01 like any movie's (InvalidPrice); default: the `default_price()` rule for
    new movies only. `strict`: any bad row aborts with nothing written
    (`aborted=True`). Raises InvalidInput (`invalid_file`) when the file cannot
    be read or lacks the format's columns.
    """
    if price is not None:
        check_price(price)
    started = clock.perf_counter()
    path = Path(path)
    movies, rejections = parse_file(path)
    report = ImportReport(
        file=str(path),
        rows=len(movies) + len(rejections),
        rejected=len(rejections),
        rejections=rejections,
    )
    if strict and rejections:
        report.aborted = True
        report.seconds = round(clock.perf_counter() - started, 3)
        return report
    total = len(movies)
    if progress:
        progress(0, total)
    for movie in movies:
        movie.price = money(price) if price is not None else default_price(movie.imdb)

    async with transaction():
        certifications = await ensure_names(EntityKind.CERTIFICATIONS, (m.certification for m in movies))
        entity_ids = {
            relation: await ensure_names(kind, (n for m in movies for n in getattr(m, relation)))
            for relation, _, _, kind in _RELATIONS
        }
        stored = await _existing(movies)

        def ids_of(movie: ParsedMovie) -> dict[str, Any]:
            ids: dict[str, Any] = {"certification": certifications[movie.certification]}
            for relation, *_ in _RELATIONS:
                ids[relation] = [entity_ids[relation][n] for n in getattr(movie, relation)]
            return ids

        to_write: list[tuple[ParsedMovie, dict[str, Any]]] = []
        relinked: list[ParsedMovie] = []  # existing movies whose lists changed
        for movie in movies:
            key = (movie.name, movie.year, movie.time)
            ids = ids_of(movie)
            current = stored.get(key)
            if current is None:
                report.inserted += 1
                to_write.append((movie, ids))
            elif _changed(current, movie, ids, price is not None):
                report.updated += 1
                to_write.append((movie, ids))
                if any(current[relation] != ids[relation] for relation, *_ in _RELATIONS):
                    relinked.append(movie)
            else:
                report.unchanged += 1
        done = report.unchanged
        if progress:
            progress(done, total)

        movie_ids = await _upsert(
            to_write, price_given=price is not None, done=done, total=total, progress=progress
        )
        # Relations: fresh rows for new movies; replaced lists for changed ones.
        replace = [movie_ids[(m.name, m.year, m.time)] for m in relinked]
        for _, table, _, _ in _RELATIONS:
            for chunk in sql.chunks(replace, sql.batch_size(2000, 50_000)):
                where, args = sql.any_of("movie_id", chunk, "int")
                await sql.fetch(f"DELETE FROM {table} WHERE {where}", *args)  # noqa: S608
        relinked_rows = {id(m) for m in relinked}
        for relation, table, fk, _ in _RELATIONS:
            pairs: list[tuple[int, int]] = []
            for movie, ids in to_write:
                key = (movie.name, movie.year, movie.time)
                if key in stored and id(movie) not in relinked_rows:
                    continue
                pairs.extend((movie_ids[key], entity_id) for entity_id in ids[relation])
            await _insert_pairs(table, fk, pairs)

    if is_postgres() and (report.inserted or report.updated):
        # Fresh planner statistics at once (autovacuum would get there later):
        # the list's plans depend on them after a bulk load.
        await sql.fetch(
            "ANALYZE movies, movie_genres, movie_stars, movie_directors, genres, stars, directors"
        )
    report.seconds = round(clock.perf_counter() - started, 3)
    if progress:
        progress(total, total)
    return report


async def _upsert(
    rows: list[tuple[ParsedMovie, dict[str, Any]]],
    *,
    price_given: bool,
    done: int,
    total: int,
    progress: Progress | None,
) -> dict[tuple[str, int, int], int]:
    """Insert new movies and update changed ones; `{(name, year, time): id}` of every row written."""
    updated = _UPDATED + (", price" if price_given else "")
    assignments = ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in updated.split(","))
    ids: dict[tuple[str, int, int], int] = {}
    now = utcnow()
    for chunk in sql.chunks(rows, sql.batch_size(MOVIE_CHUNK, 10 * MOVIE_CHUNK)):
        values = [
            (
                uuid.uuid4(),
                movie.name,
                movie.year,
                movie.time,
                movie.imdb,
                movie.votes,
                movie.meta_score,
                movie.gross,
                movie.description,
                movie.price,
                entity["certification"],
                now,
                now,
            )
            for movie, entity in chunk
        ]
        source, args = sql.rows_source(_MOVIE_TYPES, values)
        returned = await sql.fetch(
            f"INSERT INTO movies ({_MOVIE_COLUMNS}) {source} "
            f"ON CONFLICT (name, year, time) DO UPDATE SET {assignments} RETURNING id, name, year, time",
            *args,
        )
        for row in returned:
            ids[(row["name"], int(row["year"]), int(row["time"]))] = int(row["id"])
        done += len(chunk)
        if progress:
            progress(done, total)
    return ids


async def _insert_pairs(table: str, fk: str, pairs: list[tuple[int, int]]) -> None:
    for chunk in sql.chunks(pairs, sql.batch_size(JOIN_CHUNK, 25 * JOIN_CHUNK)):
        source, args = sql.rows_source(["int", "int"], chunk)
        # DO NOTHING: a concurrent import may have linked the same movie already.
        await sql.fetch(
            f"INSERT INTO {table} (movie_id, {fk}) {source} ON CONFLICT (movie_id, {fk}) DO NOTHING", *args
        )
