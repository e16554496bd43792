"""`cinema movies`: import the IMDb CSV, and list, show, create, update, delete movies.

Each command calls one catalog service function as the operator (the shell
user, who holds every role); domain errors print in red and exit 1. The
options of `list`, `create` and `update` are the fields of the API's models
(`MovieFilters`, `MovieCreate`, `MovieUpdate`; cli/model_options.py), so the
CLI accepts and refuses what the API does.

`import` exits 0 when every row was imported, 1 when rows were rejected (the
others were imported, or, with `--strict`, nothing was written).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cinema.catalog.importer import describe_default_price, import_movies
from cinema.catalog.schemas import ImportReport, MovieCreate, MovieDetail, MovieFilters, MovieUpdate, Price
from cli.common import (
    OPERATOR,
    CinemaTyper,
    JsonOption,
    console,
    err_console,
    output,
    print_json,
    run,
    success,
)
from cli.model_options import build, model_options
from cli.params import id_argument

app = CinemaTyper(help="Movies: import the IMDb CSV, browse, and edit the catalog.", no_args_is_help=True)

MovieArg = Annotated[int, id_argument("Movie id.", metavar="MOVIE_ID")]
#: `--price` of an import is a movie's price as the API takes it.
PRICE: TypeAdapter[Decimal] = TypeAdapter(Price)


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
            f"priced from their IMDb rating ({describe_default_price()}); existing movies keep their price."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Abort with nothing written if any row is bad.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import (upsert on title + year + runtime) movies from a CSV file; safe to run again."""
    try:
        fixed_price = None if price is None else PRICE.validate_python(price)
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"], param_hint="--price") from None

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
@model_options(MovieFilters)
def list_(
    *,
    page: Annotated[int, typer.Option(min=1)] = 1,
    per_page: Annotated[int, typer.Option(min=1, max=100)] = 20,
    as_json: JsonOption = False,
    **filters: Any,
) -> None:
    """Browse movies with the same filters, sorts and paging as `GET /movies`."""
    from cinema.catalog.queries import list_movies
    from cinema.pagination import PageParams

    chosen = build(MovieFilters, filters)
    result = run(lambda: list_movies(chosen, PageParams(page=page, per_page=per_page)))
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


@app.command()
@model_options(MovieCreate)
def create(*, as_json: JsonOption = False, **fields: Any) -> None:
    """Add a movie; genres, directors, stars and certification are created when missing."""
    from cinema.catalog.movies import create_movie

    data = build(MovieCreate, fields)
    movie = run(lambda: create_movie(OPERATOR, data))
    _show(movie, as_json)
    if not as_json:
        success(f"Created movie {movie.id}.")


@app.command()
@model_options(MovieUpdate, partial=True)
def update(
    movie_id: MovieArg,
    *,
    no_rental: Annotated[
        bool, typer.Option("--no-rental", help="Stop offering the movie for rent (paid rentals run on).")
    ] = False,
    default_rental_window: Annotated[
        bool,
        typer.Option(
            "--default-rental-window", help="Use RENTAL_START_DAYS and RENTAL_HOURS for this movie again."
        ),
    ] = False,
    as_json: JsonOption = False,
    **fields: Any,
) -> None:
    """Change the given fields; a `--genre`/`--director`/`--star` list replaces the movie's list.

    The options set values; `--no-rental` and `--default-rental-window` set the
    rental price and window to null (docs/entitlements.md, "Rentals").
    """
    from cinema.catalog.movies import update_movie

    data = build(MovieUpdate, fields)
    cleared: dict[str, None] = {}
    if no_rental:
        if data.rental_price is not None:
            raise typer.BadParameter("give either --rental-price or --no-rental", param_hint="--no-rental")
        cleared["rental_price"] = None
    if default_rental_window:
        if data.rental_start_days is not None or data.rental_hours is not None:
            raise typer.BadParameter(
                "give either --rental-start-days/--rental-hours or --default-rental-window",
                param_hint="--default-rental-window",
            )
        cleared.update(rental_start_days=None, rental_hours=None)
    if cleared:
        data = MovieUpdate.model_validate({**data.model_dump(exclude_unset=True), **cleared})
    movie = run(lambda: update_movie(OPERATOR, movie_id, data))
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
    run(lambda: delete_movie(OPERATOR, movie_id, force=force))
    success(f"Deleted movie {movie_id}.")
