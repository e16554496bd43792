"""`cinema movies media`: upload, list and remove a movie's feature, trailer and poster.

Each command calls one media service function (`cinema.media.assets`). An
upload streams the file (never read whole into memory), shows a progress bar
on a terminal, and on S3 is a multipart upload that is aborted on failure.
Uploading the same bytes again for a movie whose asset is ready does nothing
and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from cinema.media.schemas import IngestOut
from cinema.media.tables import MediaKind
from cli.common import CinemaTyper, JsonOption, console, output, print_json, run, success
from cli.params import id_argument

app = CinemaTyper(help="A movie's media: feature, trailer and poster.", no_args_is_help=True)

KindOption = Annotated[MediaKind, typer.Option("--kind", help="feature, trailer or poster.")]
MovieArg = Annotated[int, id_argument("Movie id.", metavar="MOVIE_ID")]


@app.command("upload")
def upload(
    movie: MovieArg,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The media file.")],
    kind: KindOption,
    as_json: JsonOption = False,
) -> None:
    """Check FILE's content and make it the movie's KIND, replacing the previous one."""
    from cinema.media.assets import ingest_file

    if console.is_terminal and not as_json:
        with Progress(
            TextColumn(f"[bold]Uploading {kind.value}[/bold]"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("upload", total=file.stat().st_size)
            result = run(
                lambda: ingest_file(
                    movie, kind, file, uploaded_by=None, progress=lambda sent: bar.advance(task, sent)
                )
            )
    else:
        result = run(lambda: ingest_file(movie, kind, file, uploaded_by=None))
    if as_json:
        print_json(result)
        return
    _say(result)


def _say(result: IngestOut) -> None:
    asset = result.asset
    what = f"{asset.content_type}, {asset.size_bytes} bytes, {asset.width}x{asset.height}, {asset.codecs}"
    if asset.duration_seconds is not None:
        what += f", {asset.duration_seconds:g} s"
    if result.unchanged:
        console.print(
            f"Unchanged: movie {asset.movie_id}'s {asset.kind.value} already has these bytes "
            f"(sha256 {asset.sha256}); nothing uploaded."
        )
    else:
        success(f"Movie {asset.movie_id}'s {asset.kind.value} is ready ({what}).")


@app.command("list")
def list_(movie: MovieArg, as_json: JsonOption = False) -> None:
    """The movie's assets: ready ones, uploads in progress and refused ones."""
    from cinema.media.assets import list_assets

    rows = run(lambda: list_assets(movie))
    output(
        rows,
        [
            "id",
            "kind",
            "status",
            "content_type",
            "size_bytes",
            "duration_seconds",
            "width",
            "height",
            "codecs",
        ],
        as_json=as_json,
        title=f"Media of movie {movie}",
    )


@app.command("remove")
def remove(movie: MovieArg, kind: KindOption, as_json: JsonOption = False) -> None:
    """Delete the movie's ready KIND and its stored file (its playback URLs stop working)."""
    from cinema.media.assets import remove_asset

    run(lambda: remove_asset(movie, kind))
    if as_json:
        print_json({"movie_id": movie, "kind": kind.value, "removed": True})
    else:
        success(f"Removed movie {movie}'s {kind.value}.")


@app.command("cleanup")
def cleanup(as_json: JsonOption = False) -> None:
    """Remove abandoned uploads and orphaned media objects now (the scheduler does it every hour)."""
    from cinema.media.assets import cleanup as run_cleanup

    removed = run(run_cleanup)
    if as_json:
        print_json(removed)
    else:
        success(
            f"Removed {removed['abandoned_uploads']} abandoned upload(s) "
            f"and {removed['orphaned_objects']} orphaned object(s)."
        )
