"""Catalog's error conditions: one class, one `code`, one sentence each (docs/errors.md)."""

from __future__ import annotations

from cinema.errors import NotFound


class MovieNotFound(NotFound):
    code = "movie_not_found"
    default_detail = "The movie does not exist."
