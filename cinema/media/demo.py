"""Playable media for the embedded demo, made locally (docs/media.md, "The demo").

The top-rated movies of the catalog get a short feature, a trailer and a
poster: a test pattern and a tone encoded with PyAV (`samples`), nothing
downloaded. Movies that already have a ready feature are left alone, so
running the demo again adds nothing.
"""

from __future__ import annotations

import asyncio

from cinema.db import fetch
from cinema.media import assets
from cinema.media.samples import write_poster, write_sample
from cinema.media.tables import MediaKind

#: Seconds of the demo feature and trailer (a few hundred kB of WebM each).
FEATURE_SECONDS = 8.0
TRAILER_SECONDS = 4.0


async def attach_demo_media(count: int = 3) -> list[int]:
    """Give the `count` top-rated movies without a feature a generated feature, trailer and poster.

    Returns the ids of the movies that got media now.
    """
    rows = await fetch(
        "SELECT m.id FROM movies m WHERE NOT EXISTS (SELECT 1 FROM media_assets a "
        "WHERE a.movie_id = m.id AND a.kind = 'feature' AND a.status = 'ready') "
        "ORDER BY m.imdb DESC, m.id LIMIT {}",
        count,
    )
    done: list[int] = []
    for index, row in enumerate(rows):
        movie_id = int(row["id"])
        for kind, seconds in ((MediaKind.FEATURE, FEATURE_SECONDS), (MediaKind.TRAILER, TRAILER_SECONDS)):
            async with assets.temp_file(".webm") as path:
                await asyncio.to_thread(write_sample, path, seconds=seconds, hue=index + movie_id)
                await assets.ingest_file(movie_id, kind, path, uploaded_by=None)
        async with assets.temp_file(".png") as path:
            await asyncio.to_thread(write_poster, path, hue=index + movie_id)
            await assets.ingest_file(movie_id, MediaKind.POSTER, path, uploaded_by=None)
        done.append(movie_id)
    return done
