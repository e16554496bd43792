"""Media's part in deleting a movie, registered with the catalog (cinema/catalog/guards.py).

Not a veto: the catalog runs its delete guards inside the deletion's
transaction, after locking the movie row and after the guards that may
refuse (commerce's are registered first, cinema/piccolo_app.py). This one
schedules, for after the commit, the deletion of the movie's stored media
objects (local files or S3 objects) and the abort of its unfinished uploads,
so no door (API, CLI, admin) leaves orphaned media behind (docs/media.md,
"Removal").
"""

from __future__ import annotations

from cinema.catalog.guards import register_delete_guard
from cinema.media import assets


@register_delete_guard
async def delete_stored_media(movie_id: int, *, force: bool = False) -> None:
    """Never refuses; once the deletion commits, the movie's stored media goes too."""
    await assets.forget_movie_media(movie_id)
