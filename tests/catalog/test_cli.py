"""`cinema movies ...` and `cinema genres|stars|directors|certifications list` on the test database.

Sync tests: see tests/cli_support.py. The shipped sample catalog (24 films in
the IMDb format) keeps these fast; the real file is covered by test_browse_api.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from cinema.catalog.importer import SAMPLE_CATALOG
from tests.cli_support import invoke_cli


def _json(result: object) -> object:
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    return json.loads(result.stdout)  # type: ignore[attr-defined]


def test_import_is_idempotent_and_reports_as_json() -> None:
    first = _json(invoke_cli("movies", "import", str(SAMPLE_CATALOG), "--json"))
    assert (first["inserted"], first["updated"], first["unchanged"], first["rejected"]) == (24, 0, 0, 0)
    again = invoke_cli("movies", "import", str(SAMPLE_CATALOG))
    assert again.exit_code == 0
    assert "Import complete." in again.stdout
    second = _json(invoke_cli("movies", "import", str(SAMPLE_CATALOG), "--json"))
    assert (second["inserted"], second["unchanged"]) == (0, 24)


def test_bad_rows_are_reported_with_line_numbers_and_strict_writes_nothing(tmp_path: Path) -> None:
    lines = SAMPLE_CATALOG.read_text(encoding="utf-8").splitlines()
    broken = [lines[0], lines[1], lines[2].replace(",1922,", ",19x2,"), lines[3]]
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")

    strict = invoke_cli("movies", "import", str(path), "--strict", "--json")
    assert strict.exit_code == 1
    assert json.loads(strict.stdout)["aborted"] is True
    assert _json(invoke_cli("movies", "list", "--json"))["total"] == 0  # type: ignore[index]

    lenient = invoke_cli("movies", "import", str(path))
    assert lenient.exit_code == 1
    assert "Rejected rows" in lenient.stdout
    assert "1 row(s) rejected" in lenient.stderr
    report = _json(invoke_cli("movies", "list", "--json"))
    assert report["total"] == 2  # type: ignore[index]


def test_list_filters_show_create_update_delete() -> None:
    invoke_cli("movies", "import", str(SAMPLE_CATALOG))
    top = _json(invoke_cli("movies", "list", "--sort", "-imdb", "--per-page", "2", "--json"))
    assert [m["name"] for m in top["items"]] == ["The Godfather", "12 Angry Men"]  # type: ignore[index]
    hitchcock = _json(invoke_cli("movies", "list", "--search", "Hitchcock", "--year-from", "1955", "--json"))
    assert sorted(m["name"] for m in hitchcock["items"]) == ["Psycho", "Vertigo"]  # type: ignore[index]
    assert "The Godfather" in invoke_cli("movies", "list", "--sort", "-imdb").stdout

    created = invoke_cli(
        "movies", "create", "--name", "Test Film", "--year", "2020", "--time", "90", "--imdb", "7.5",
        "--price", "4.50", "--certification", "PG", "--genre", "Drama", "--star", "Ann Actor", "--json",
    )  # fmt: skip
    movie = _json(created)
    movie_id = str(movie["id"])  # type: ignore[index]
    assert movie["price"] == "4.50"  # type: ignore[index]
    assert [g["name"] for g in movie["genres"]] == ["Drama"]  # type: ignore[index]

    duplicate = invoke_cli(
        "movies", "create", "--name", "Test Film", "--year", "2020", "--time", "90", "--imdb", "7.5",
        "--price", "4.50", "--certification", "PG",
    )  # fmt: skip
    assert duplicate.exit_code == 1
    assert "duplicate_movie" in duplicate.stderr

    updated = _json(invoke_cli("movies", "update", movie_id, "--price", "5.25", "--json"))
    assert updated["price"] == "5.25"  # type: ignore[index]
    shown = invoke_cli("movies", "show", movie_id)
    assert shown.exit_code == 0
    assert "Test Film" in shown.stdout
    assert invoke_cli("movies", "delete", movie_id, "--yes").exit_code == 0
    missing = invoke_cli("movies", "show", movie_id)
    assert missing.exit_code == 1
    assert "The movie does not exist. (movie_not_found)" in missing.stderr


def test_entity_lists() -> None:
    invoke_cli("movies", "import", str(SAMPLE_CATALOG))
    genres = _json(invoke_cli("genres", "list", "--json"))
    drama = next(g for g in genres if g["name"] == "Drama")  # type: ignore[attr-defined]
    with SAMPLE_CATALOG.open(encoding="utf-8", newline="") as handle:
        expected = sum("Drama" in row["Genre"].split(", ") for row in csv.DictReader(handle))
    assert drama["movie_count"] == expected == 10
    directors = _json(invoke_cli("directors", "list", "--search", "Hitchcock", "--json"))
    assert [(d["name"], d["movie_count"]) for d in directors["items"]] == [("Alfred Hitchcock", 3)]  # type: ignore[index]
    stars = invoke_cli("stars", "list", "--search", "Welles")
    assert stars.exit_code == 0
    assert "Orson Welles" in stars.stdout
    assert invoke_cli("certifications", "list").exit_code == 0
