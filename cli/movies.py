"""`cinema movies`: import the IMDb CSV, and list, show, create, update, delete movies.

Each command calls one catalog service function; domain errors print in red and exit 1.
`import` exits 0 when every row was imported, 1 when rows were rejected (the
others were imported, or, with `--strict`, nothing was written).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cinema.catalog.schemas import ImportReport, MovieCreate, MovieDetail, MovieFilters, MovieUpdate, SortKey
from cli.common import CinemaTyper, JsonOption, console, err_console, output, print_json, run, success
from cli.params import id_argument, id_option

app = CinemaTyper(help="Movies: import the IMDb CSV, browse, and edit the catalog.", no_args_is_help=True)

MovieArg = Annotated[int, id_argument("Movie id.", metavar="MOVIE_ID")]


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV in the IMDb Top 1000 format."),
    ],
    price: Annotated[
        str | None,
        typer.Option(
            help="One price for every row (also updates existing movies). Default: new movies are "
            "priced from their IMDb rating (9.0+: 19.99, 8.5+: 14.99, 8.0+: 12.99, 7.0+: 9.99, "
            "else 6.99); existing movies keep their price."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Abort with nothing written if any row is bad.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import (upsert on title + year + runtime) movies from a CSV file; safe to run again."""
    from cinema.catalog.importer import import_movies
    from cinema.money import money

    try:
        fixed_price = None if price is None else money(price)
    except ValueError:
        raise typer.BadParameter(f"not a price: {price!r}", param_hint="--price") from None
    if fixed_price is not None and fixed_price < 0:
        raise typer.BadParameter("must be 0 or more", param_hint="--price")

    show_bar = console.is_terminal and not as_json
    if show_bar:
        with Progress(
            TextColumn("[bold]Importing[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("import", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = run(lambda: import_movies(file, price=fixed_price, strict=strict, progress=advance))
    else:
        report = run(lambda: import_movies(file, price=fixed_price, strict=strict))

    if as_json:
        print_json(report)
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: ImportReport) -> None:
    if report.rejections:
        rejected = Table(title="Rejected rows", title_style="bold red")
        for column in ("line", "title", "reason"):
            rejected.add_column(column)
        for item in report.rejections[:200]:
            rejected.add_row(str(item.line), item.title or "", item.reason)
        console.print(rejected)
        if len(report.rejections) > 200:
            console.print(f"... and {len(report.rejections) - 200} more (use --json for all).")
    summary = Table(title=f"Import of {report.file}")
    for column in ("inserted", "updated", "unchanged", "rejected", "seconds"):
        summary.add_column(column, justify="right")
    summary.add_row(
        str(report.inserted),
        str(report.updated),
        str(report.unchanged),
        str(report.rejected),
        f"{report.seconds:.2f}",
    )
    console.print(summary)
    if report.aborted:
        err_console.print("[red]Aborted (--strict): bad rows found, nothing was written.[/red]")
    elif report.rejected:
        err_console.print(f"[yellow]{report.rejected} row(s) rejected; the others were imported.[/yellow]")
    else:
        success("Import complete.")


@app.command("list")
def list_(
    search: Annotated[
        str | None, typer.Option(help="Substring of title, description, star or director.")
    ] = None,
    year: Annotated[int | None, typer.Option()] = None,
    year_from: Annotated[int | None, typer.Option()] = None,
    year_to: Annotated[int | None, typer.Option()] = None,
    imdb_min: Annotated[float | None, typer.Option()] = None,
    imdb_max: Annotated[float | None, typer.Option()] = None,
    price_min: Annotated[str | None, typer.Option()] = None,
    price_max: Annotated[str | None, typer.Option()] = None,
    genre_id: Annotated[int | None, id_option("--genre-id", help="Only movies with this genre.")] = None,
    star_id: Annotated[int | None, id_option("--star-id", help="Only movies with this star.")] = None,
    director_id: Annotated[
        int | None, id_option("--director-id", help="Only movies with this director.")
    ] = None,
    certification_id: Annotated[
        int | None, id_option("--certification-id", help="Only movies with this certification.")
    ] = None,
    sort: Annotated[SortKey | None, typer.Option(help="Field, `-` prefix for descending.")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=100)] = 20,
    as_json: JsonOption = False,
) -> None:
    """Browse movies with the same filters, sorts and paging as `GET /movies`."""
    from cinema.catalog.queries import list_movies
    from cinema.pagination import PageParams

    try:
        filters = MovieFilters(
            search=search,
            year=year,
            year_from=year_from,
            year_to=year_to,
            imdb_min=imdb_min,
            imdb_max=imdb_max,
            price_min=_decimal(price_min),
            price_max=_decimal(price_max),
            genre_id=genre_id,
            star_id=star_id,
            director_id=director_id,
            certification_id=certification_id,
            sort=sort,
        )
    except ArithmeticError:
        raise typer.BadParameter("--price-min/--price-max must be numbers") from None
    result = run(lambda: list_movies(filters, PageParams(page=page, per_page=per_page)))
    rows = [
        {
            "id": item.id,
            "name": item.name,
            "year": item.year,
            "imdb": item.imdb,
            "price": item.price,
            "genres": ", ".join(g.name for g in item.genres),
            "certification": item.certification.name,
        }
        for item in result.items
    ]
    output(
        rows,
        ["id", "name", "year", "imdb", "price", "genres", "certification"],
        as_json=as_json,
        title=f"Movies: page {result.page} of {result.pages} ({result.total} in all)",
        payload=result,
    )


def _show(movie: MovieDetail, as_json: bool) -> None:
    if as_json:
        print_json(movie)
        return
    table = Table(show_header=False, title=f"{movie.name} ({movie.year})")
    table.add_column("field", style="bold")
    table.add_column("value")
    data: dict[str, Any] = movie.model_dump(mode="json")
    for key, value in data.items():
        if key in ("genres", "directors", "stars"):
            value = ", ".join(v["name"] for v in value)
        elif key == "certification":
            value = value["name"]
        elif key.startswith(("my_", "is_")):
            continue
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


@app.command()
def show(movie_id: MovieArg, as_json: JsonOption = False) -> None:
    """One movie in full, with its counters."""
    from cinema.catalog.movies import get_movie

    _show(run(lambda: get_movie(movie_id)), as_json)


NamesOption = Annotated[list[str] | None, typer.Option(help="Repeat for several.")]
RentalPriceOption = Annotated[
    str | None, typer.Option(help="Offer the movie for rent at this price, e.g. 3.99.")
]
RentalStartDaysOption = Annotated[
    int | None, typer.Option(help="Days a renter has to start watching (default: RENTAL_START_DAYS).")
]
RentalHoursOption = Annotated[
    int | None, typer.Option(help="Hours a started rental runs (default: RENTAL_HOURS).")
]


@app.command()
def create(
    name: Annotated[str, typer.Option(help="Title.")],
    year: Annotated[int, typer.Option()],
    time: Annotated[int, typer.Option(help="Runtime in minutes.")],
    imdb: Annotated[float, typer.Option(help="IMDb rating 0..10.")],
    price: Annotated[str, typer.Option(help="Price, e.g. 9.99.")],
    certification: Annotated[str, typer.Option(help="Certification name, e.g. PG-13.")],
    votes: Annotated[int, typer.Option()] = 0,
    meta_score: Annotated[float | None, typer.Option()] = None,
    gross: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str, typer.Option()] = "",
    rental_price: RentalPriceOption = None,
    rental_start_days: RentalStartDaysOption = None,
    rental_hours: RentalHoursOption = None,
    genre: NamesOption = None,
    director: NamesOption = None,
    star: NamesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a movie; genres, directors, stars and certification are created when missing."""
    from pydantic import ValidationError

    from cinema.catalog.movies import create_movie

    try:
        data = MovieCreate(
            name=name,
            year=year,
            time=time,
            imdb=imdb,
            votes=votes,
            meta_score=meta_score,
            gross=gross,
            description=description,
            price=price,
            rental_price=rental_price,
            rental_start_days=rental_start_days,
            rental_hours=rental_hours,
            certification=certification,
            genres=genre or [],
            directors=director or [],
            stars=star or [],
        )
    except ValidationError as exc:
        raise typer.BadParameter(_errors(exc)) from None
    movie = run(lambda: create_movie(data))
    _show(movie, as_json)
    if not as_json:
        success(f"Created movie {movie.id}.")


@app.command()
def update(
    movie_id: MovieArg,
    name: Annotated[str | None, typer.Option()] = None,
    year: Annotated[int | None, typer.Option()] = None,
    time: Annotated[int | None, typer.Option(help="Runtime in minutes.")] = None,
    imdb: Annotated[float | None, typer.Option()] = None,
    votes: Annotated[int | None, typer.Option()] = None,
    meta_score: Annotated[float | None, typer.Option()] = None,
    gross: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    price: Annotated[str | None, typer.Option()] = None,
    rental_price: RentalPriceOption = None,
    no_rental: Annotated[
        bool, typer.Option("--no-rental", help="Stop offering the movie for rent (paid rentals run on).")
    ] = False,
    rental_start_days: RentalStartDaysOption = None,
    rental_hours: RentalHoursOption = None,
    default_rental_window: Annotated[
        bool,
        typer.Option(
            "--default-rental-window", help="Use RENTAL_START_DAYS and RENTAL_HOURS for this movie again."
        ),
    ] = False,
    certification: Annotated[str | None, typer.Option()] = None,
    genre: NamesOption = None,
    director: NamesOption = None,
    star: NamesOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change the given fields; a `--genre`/`--director`/`--star` list replaces the movie's list."""
    from pydantic import ValidationError

    from cinema.catalog.movies import update_movie

    given: dict[str, Any] = {
        key: value
        for key, value in {
            "name": name,
            "year": year,
            "time": time,
            "imdb": imdb,
            "votes": votes,
            "meta_score": meta_score,
            "gross": gross,
            "description": description,
            "price": price,
            "rental_price": rental_price,
            "rental_start_days": rental_start_days,
            "rental_hours": rental_hours,
            "certification": certification,
            "genres": genre,
            "directors": director,
            "stars": star,
        }.items()
        if value is not None
    }
    if no_rental:
        if rental_price is not None:
            raise typer.BadParameter("give either --rental-price or --no-rental", param_hint="--no-rental")
        given["rental_price"] = None
    if default_rental_window:
        if rental_start_days is not None or rental_hours is not None:
            raise typer.BadParameter(
                "give either --rental-start-days/--rental-hours or --default-rental-window",
                param_hint="--default-rental-window",
            )
        given.update(rental_start_days=None, rental_hours=None)
    try:
        data = MovieUpdate.model_validate(given)
    except ValidationError as exc:
        raise typer.BadParameter(_errors(exc)) from None
    movie = run(lambda: update_movie(movie_id, data))
    _show(movie, as_json)
    if not as_json:
        success(f"Updated movie {movie.id}.")


@app.command()
def delete(
    movie_id: MovieArg,
    force: Annotated[bool, typer.Option("--force", help="Also take it out of the carts holding it.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a movie (refused when bought, in an order, or, without --force, in carts)."""
    from cinema.catalog.movies import delete_movie

    if not yes:
        typer.confirm(f"Delete movie {movie_id}?", abort=True)
    run(lambda: delete_movie(movie_id, force=force))
    success(f"Deleted movie {movie_id}.")


def _errors(exc: Any) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
