"""A deterministic N-row movie CSV generated from the real IMDb Top 1000.

The output has the source's columns (`Poster_Link, Series_Title, ...,
No_of_Votes, Gross`) and its formats (`"142 min"`, Gross with thousands
separators, blank certificates / Meta_score / Gross on a share of rows), so
the product's importer reads it exactly as it reads the real file. The first
rows are the real films, unchanged; every further row mixes several real rows:

- `Series_Title`: the first half of one real title and the second half of
  another (a roman numeral is appended when (title, year, runtime) repeats, the
  catalog's unique key);
- `Released_Year` 1920..2024, `Runtime` 70..210 min;
- `Genre`: 1..3 of the real genres, weighted by how often the real file uses them;
- `IMDB_Rating` about N(6.6, 1.1) in 1.0..9.9, so rating filters select a
  realistic share (the real file is 7.6..9.3 only);
- `Director`, `Star1..4`: drawn from pools of real names plus synthetic ones
  (a real first name with a real last name), sized so a real star's name
  appears in roughly as many movies per 1,000 as in the real file;
- `Overview`: the start of one real overview and the end of another.

Prices are not in the IMDb format: the importer prices each new movie from its
IMDb rating (`cinema.catalog.importer.default_price`), so the spread of ratings
above gives a spread of prices.

The same seed and row count always give the same file.
Run: `python -m tests.perf.datagen --rows 100000 --out /tmp/movies-100k.csv`.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
from collections import Counter
from pathlib import Path

#: The real file, relative to the repository (never copied into it).
IMDB_CSV = Path(
    os.environ.get("IMDB_CSV")
    or Path(__file__).resolve().parents[3] / "shared" / "data" / "imdb_top_1000.csv"
)

_ROMAN = ["II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]


def _roman(n: int) -> str:
    """II, III, ... for n = 0, 1, ...; beyond X: `Part N`."""
    return _ROMAN[n] if n < len(_ROMAN) else f"Part {n + 2}"


def read_source(source: Path = IMDB_CSV) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of the real CSV."""
    with source.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _name_pool(real: list[str], size: int, rng: random.Random) -> list[str]:
    """`size` distinct person names: the real ones first, then real first + real last names."""
    pool = list(dict.fromkeys(real))
    seen = set(pool)
    firsts = sorted({n.split()[0] for n in real if " " in n})
    lasts = sorted({n.split()[-1] for n in real if " " in n})
    while len(pool) < size:
        name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
        if name not in seen:
            seen.add(name)
            pool.append(name)
    return pool


def _split_words(text: str) -> tuple[list[str], list[str]]:
    words = text.split()
    half = max(1, len(words) // 2)
    return words[:half], words[half:] or words[-1:]


def generate(rows: int, out: Path, *, seed: int = 7, source: Path = IMDB_CSV) -> Path:
    """Write `rows` movies to `out` (CSV, the source's columns) and return `out`.

    The first min(rows, 1000) rows are the real file's; the rest are generated
    deterministically from `seed`. Raises FileNotFoundError when `source` is missing.
    """
    header, real = read_source(source)
    rng = random.Random(seed)
    stars_real = [r[f"Star{i}"] for r in real for i in range(1, 5)]
    directors_real = [r["Director"] for r in real]
    # The real file: ~2,700 stars over 1,000 films (4 per film). Keep the
    # same movies-per-star density at any size, so a star search stays selective.
    star_pool = _name_pool(stars_real, max(len(set(stars_real)), rows * 27 // 10), rng)
    director_pool = _name_pool(directors_real, max(len(set(directors_real)), rows * 55 // 100), rng)
    genre_counts: Counter[str] = Counter(g.strip() for r in real for g in r["Genre"].split(","))
    genres, genre_weights = zip(*sorted(genre_counts.items()), strict=True)
    certificates = [r["Certificate"] for r in real]  # keeps the real share of blanks
    titles = [_split_words(r["Series_Title"]) for r in real]
    overviews = [_split_words(r["Overview"]) for r in real]

    columns = header
    used: set[tuple[str, str, str]] = set()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for i in range(rows):
            if i < len(real):
                row = dict(real[i])
            else:
                row = _synthetic(
                    rng, real, titles, overviews, star_pool, director_pool, genres, genre_weights
                )
                row["Certificate"] = rng.choice(certificates)
            key = (row["Series_Title"], row["Released_Year"], row["Runtime"])
            n = 0
            while key in used:
                key = (f"{row['Series_Title']} {_roman(n)}", key[1], key[2])
                n += 1
            row["Series_Title"] = key[0]
            used.add(key)
            writer.writerow(row)
    return out


def _synthetic(
    rng: random.Random,
    real: list[dict[str, str]],
    titles: list[tuple[list[str], list[str]]],
    overviews: list[tuple[list[str], list[str]]],
    star_pool: list[str],
    director_pool: list[str],
    genres: tuple[str, ...],
    genre_weights: tuple[int, ...],
) -> dict[str, str]:
    base = rng.choice(real)
    head, tail = rng.choice(titles)[0], rng.choice(titles)[1]
    ov_head, ov_tail = rng.choice(overviews)[0], rng.choice(overviews)[1]
    picked: list[str] = []
    for _ in range(rng.choice((1, 2, 2, 3, 3))):
        g = rng.choices(genres, genre_weights)[0]
        if g not in picked:
            picked.append(g)
    stars = rng.sample(star_pool, 4)
    imdb = min(9.9, max(1.0, rng.gauss(6.6, 1.1)))
    votes = int(min(2_500_000, max(25, rng.lognormvariate(10, 1.6))))
    row = dict(base)
    row.update(
        {
            "Series_Title": " ".join([*head, *tail]),
            "Released_Year": str(rng.randint(1920, 2024)),
            "Runtime": f"{rng.randint(70, 210)} min",
            "Genre": ", ".join(picked),
            "IMDB_Rating": f"{imdb:.1f}",
            "Overview": " ".join([*ov_head, *ov_tail]),
            "Meta_score": "" if rng.random() < 0.16 else str(rng.randint(20, 100)),
            "Director": rng.choice(director_pool),
            "Star1": stars[0],
            "Star2": stars[1],
            "Star3": stars[2],
            "Star4": stars[3],
            "No_of_Votes": str(votes),
            "Gross": "" if rng.random() < 0.17 else f"{rng.randint(10_000, 900_000_000):,}",
        }
    )
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--source", type=Path, default=IMDB_CSV)
    args = parser.parse_args(argv)
    path = generate(args.rows, args.out, seed=args.seed, source=args.source)
    print(path)


if __name__ == "__main__":
    main()
