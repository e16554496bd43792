"""The CSV importer on small hand-made files: bad rows, --strict, updates, prices, and the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cinema.catalog.errors import InvalidPrice
from cinema.catalog.importer import default_price, import_movies
from cinema.catalog.tables import Certification, Genre, Movie, MovieStar, Star
from cinema.errors import InvalidInput
from tests.catalog.conftest import film, write_csv

ROOT = Path(__file__).resolve().parents[2]


def messy_file(path: Path) -> Path:
    """Lines: 2 good, 3-7 bad, 8-9 one good record (quoted newline), 10 bad, 11 good."""
    rows = [
        film("Good One"),
        film(""),
        film("Bad Year", Released_Year="PG"),
        film("Bad Runtime", Runtime="long"),
        film("Bad Rating", IMDB_Rating="high"),
        film("Good One"),
        film("Two Lines", Overview="First line,\nsecond line."),
        film("Bad Gross", Gross="lots"),
        film("No Extras", Certificate="", Meta_score="", Gross="", Star2="", Genre="Western"),
    ]
    return write_csv(path / "messy.csv", rows)


async def test_bad_rows_are_reported_and_the_rest_imported(tmp_path: Path) -> None:
    report = await import_movies(messy_file(tmp_path))
    assert (report.rows, report.inserted, report.updated, report.unchanged, report.rejected) == (
        9,
        3,
        0,
        0,
        6,
    )
    assert not report.ok
    reasons = {r.line: (r.title, r.reason) for r in report.rejections}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 10]
    assert reasons[3] == (None, "missing title")
    assert reasons[4][0] == "Bad Year"
    assert "unparseable year 'PG'" in reasons[4][1]
    assert "unparseable runtime 'long'" in reasons[5][1]
    assert "unparseable IMDb rating 'high'" in reasons[6][1]
    assert reasons[7] == ("Good One", "duplicate of line 2 (same title, year and runtime)")
    assert "unparseable gross 'lots'" in reasons[10][1]

    movies = {r["name"]: r for r in await Movie.select().order_by(Movie.id)}
    assert list(movies) == ["Good One", "Two Lines", "No Extras"]
    assert movies["Two Lines"]["description"] == "First line,\nsecond line."
    good = movies["Good One"]
    assert (good["year"], good["time"], good["votes"], Decimal(str(good["gross"]))) == (
        2001,
        100,
        12345,
        1234567,
    )
    extras = movies["No Extras"]
    assert (extras["meta_score"], extras["gross"]) == (None, None)
    not_rated = await Certification.select(Certification.id).where(Certification.name == "Not Rated").first()
    assert not_rated is not None
    assert extras["certification_id"] == not_rated["id"]
    assert sorted(g["name"] for g in await Genre.select(Genre.name)) == ["Comedy", "Drama", "Western"]
    assert await Star.count() == 2


async def test_strict_aborts_with_nothing_written(tmp_path: Path) -> None:
    report = await import_movies(messy_file(tmp_path), strict=True)
    assert report.aborted
    assert (report.inserted, report.rejected) == (0, 6)
    assert await Movie.count() == 0
    assert await Genre.count() == 0
    assert await Certification.count() == 0


async def test_changed_rows_are_updated_and_equal_rows_left_alone(tmp_path: Path) -> None:
    first = [film("Alpha"), film("Beta", Star1="X", Star2="Y"), film("Gamma")]
    await import_movies(write_csv(tmp_path / "a.csv", first))
    before = {r["name"]: r for r in await Movie.select(Movie.name, Movie.updated_at, Movie.uuid, Movie.id)}

    second = [
        film("Alpha", No_of_Votes="99"),
        film("Beta", Star1="Y", Star2="Z"),
        film("Gamma"),
        film("Delta"),
    ]
    report = await import_movies(write_csv(tmp_path / "b.csv", second))
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (1, 2, 1, 0)
    after = {
        r["name"]: r
        for r in await Movie.select(Movie.name, Movie.updated_at, Movie.uuid, Movie.id, Movie.votes)
    }
    assert after["Alpha"]["votes"] == 99
    assert after["Gamma"]["updated_at"] == before["Gamma"]["updated_at"]
    assert after["Alpha"]["updated_at"] > before["Alpha"]["updated_at"]
    for name in ("Alpha", "Beta", "Gamma"):  # same rows: ids and uuids kept
        assert (after[name]["id"], after[name]["uuid"]) == (before[name]["id"], before[name]["uuid"])
    stars = await (
        MovieStar.select(MovieStar.star.name.as_alias("star"))
        .where(MovieStar.movie == after["Beta"]["id"])
        .order_by(MovieStar.id)
    )
    assert [s["star"] for s in stars] == ["Y", "Z"]
    assert await MovieStar.count() == 2 * 4 - 2 + 2  # Alpha, Gamma, Delta: 2 each; Beta: 2 (replaced)

    again = await import_movies(write_csv(tmp_path / "b.csv", second))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)


async def test_prices(tmp_path: Path) -> None:
    assert [default_price(x) for x in (9.3, 9.0, 8.7, 8.0, 7.9, 7.0, 6.9, 0.0)] == [
        Decimal(p) for p in ("19.99", "19.99", "14.99", "12.99", "9.99", "9.99", "6.99", "6.99")
    ]
    path = write_csv(tmp_path / "p.csv", [film("Cheap", IMDB_Rating="6.1"), film("Great", IMDB_Rating="9.1")])
    await import_movies(path)
    prices = {r["name"]: r["price"] for r in await Movie.select(Movie.name, Movie.price)}
    assert prices == {"Cheap": Decimal("6.99"), "Great": Decimal("19.99")}

    fixed = await import_movies(path, price=Decimal("4"))
    assert (fixed.updated, fixed.unchanged) == (2, 0)
    assert {r["price"] for r in await Movie.select(Movie.price)} == {Decimal("4.00")}
    # Without --price, existing movies keep the price they have (a moderator may have set it).
    await Movie.update({Movie.price: Decimal("2.50")}).where(Movie.name == "Cheap")
    kept = await import_movies(path)
    assert (kept.updated, kept.unchanged) == (0, 2)
    prices = {r["name"]: r["price"] for r in await Movie.select(Movie.name, Movie.price)}
    assert prices == {"Cheap": Decimal("2.50"), "Great": Decimal("4.00")}


async def test_files_that_are_not_in_the_format(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("title;year\nAlien;1979\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        await import_movies(wrong)
    assert error.value.code == "invalid_file"
    assert "Series_Title" in error.value.detail

    latin = tmp_path / "latin.csv"
    write_csv(latin, [film("Amélie")])
    latin.write_bytes(latin.read_text(encoding="utf-8").encode("latin-1"))
    with pytest.raises(InvalidInput):
        await import_movies(latin)
    assert await Movie.count() == 0


async def test_odd_cells(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    write_csv(
        path,
        [
            film("Spaces ", Genre=" Drama ,, Drama,Crime ", Star1="  Ann   Lee ", Star2="Ann Lee"),
            film("Nul", Overview="bad\x00byte"),
            film("Votes", No_of_Votes="12.5"),
            film("Meta", Meta_score="101"),
            film("Old", Released_Year="1200"),
        ],
    )
    report = await import_movies(path)
    assert report.inserted == 1
    assert [r.line for r in report.rejections] == [3, 4, 5, 6]
    assert "NUL" in report.rejections[0].reason
    row = await Movie.select(Movie.id, Movie.name).first()
    assert row is not None
    assert row["name"] == "Spaces"
    assert sorted(g["name"] for g in await Genre.select(Genre.name)) == ["Crime", "Drama"]
    assert [s["name"] for s in await Star.select(Star.name)] == ["Ann Lee"]


async def cli(*args: str) -> tuple[int, str, str]:
    """Run `cinema ...` in a subprocess against the test database (its env comes from conftest)."""
    env = {**os.environ, "COLUMNS": "200"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_import_exit_codes_and_json(tmp_path: Path) -> None:
    code, out, _ = await cli("movies", "import", str(messy_file(tmp_path)), "--strict", "--json")
    assert code == 1
    summary: dict[str, Any] = json.loads(out)
    assert (summary["aborted"], summary["rejected"], summary["inserted"]) == (True, 6, 0)
    assert await Movie.count() == 0

    code, out, _ = await cli("movies", "import", str(messy_file(tmp_path)), "--json")
    assert code == 1
    summary = json.loads(out)
    assert (summary["inserted"], summary["rejected"]) == (3, 6)
    assert summary["rejections"][0] == {"line": 3, "reason": "missing title", "title": None}

    good = write_csv(tmp_path / "good.csv", [film("Solo"), film("Duo", Genre="Horror")])
    code, out, _ = await cli("movies", "import", str(good), "--price", "3.33")
    assert code == 0, out
    assert "inserted" in out
    assert "Import complete." in out
    assert {r["price"] for r in await Movie.select(Movie.price).where(Movie.name.is_in(["Solo", "Duo"]))} == {
        Decimal("3.33")
    }


async def test_a_fixed_price_follows_the_price_rule_of_every_movie(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", [film("Solo")])
    with pytest.raises(InvalidPrice):
        await import_movies(good, price=Decimal("0.00"))
    code, _, err = await cli("movies", "import", str(good), "--price", "0")
    assert code == 1
    assert err.strip() == "Error: A movie's price must be at least 0.01. (invalid_price)"
    code, _, err = await cli("movies", "import", str(good), "--price", "123456789")
    assert code == 2  # beyond DECIMAL(10, 2), as `movies create --price` refuses it
    assert "--price" in err
    assert await Movie.count() == 0


async def test_cli_browse_and_edit(tmp_path: Path) -> None:
    await import_movies(write_csv(tmp_path / "f.csv", [film("Alpha", Genre="Horror"), film("Beta")]))
    code, out, _ = await cli("movies", "list", "--genre-id", "1", "--sort", "-name", "--json")
    assert code == 0
    page = json.loads(out)
    assert [(i["name"], i["genres"][0]["name"]) for i in page["items"]] == [("Alpha", "Horror")]
    assert page["total"] == 1

    code, out, _ = await cli("genres", "list", "--json")
    assert {g["name"]: g["movie_count"] for g in json.loads(out)} == {"Horror": 1, "Drama": 1, "Comedy": 1}
    code, out, _ = await cli("stars", "list", "--search", "one", "--json")
    assert [(s["name"], s["movie_count"]) for s in json.loads(out)["items"]] == [("Actor One", 2)]

    alpha = await Movie.select(Movie.id).where(Movie.name == "Alpha").first()
    assert alpha is not None
    code, out, _ = await cli(
        "movies", "update", str(alpha["id"]), "--price", "1.25", "--star", "Solo Star", "--json"
    )
    assert code == 0, out
    shown = json.loads(out)
    assert (shown["price"], [s["name"] for s in shown["stars"]]) == ("1.25", ["Solo Star"])

    code, out, _ = await cli(
        "movies", "create", "--name", "Gamma", "--year", "2003", "--time", "90", "--imdb", "7",
        "--price", "2", "--certification", "R", "--genre", "Drama", "--json",
    )  # fmt: skip
    assert code == 0, out
    gamma = json.loads(out)
    assert (gamma["name"], gamma["price"], gamma["certification"]["name"]) == ("Gamma", "2.00", "R")

    code, _, _ = await cli("movies", "delete", str(gamma["id"]), "--yes")
    assert code == 0
    assert await Movie.count() == 2
    code, _, err = await cli("movies", "delete", str(gamma["id"]), "--yes")
    assert code == 1  # a domain error: red sentence, exit 1
    assert "The movie does not exist. (movie_not_found)" in err
