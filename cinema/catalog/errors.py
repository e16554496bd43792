"""Catalog errors (the catalog work declares the rest here)."""

from __future__ import annotations

from cinema.errors import NotFound


class MovieNotFound(NotFound):
    code = "movie_not_found"
    default_detail = "The movie does not exist."
