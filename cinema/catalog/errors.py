"""Catalog error conditions: one class, one `code`, one sentence each (docs/errors.md).

Other domains import these (a missing movie is `movie_not_found` everywhere);
they never declare their own. Variable facts travel as extra JSON fields
(`carts`, `movie_count`, `fields`, ...), never in a reworded sentence.
"""

from __future__ import annotations

from cinema.errors import Conflict, NotFound, ValidationFailed


class MovieNotFound(NotFound):
    code = "movie_not_found"
    default_detail = "The movie does not exist."


class GenreNotFound(NotFound):
    code = "genre_not_found"
    default_detail = "The genre does not exist."


class StarNotFound(NotFound):
    code = "star_not_found"
    default_detail = "The star does not exist."


class DirectorNotFound(NotFound):
    code = "director_not_found"
    default_detail = "The director does not exist."


class CertificationNotFound(NotFound):
    code = "certification_not_found"
    default_detail = "The certification does not exist."


class NotLinked(NotFound):
    """A genre, star or director removed from a movie's list it is not on."""

    code = "not_linked"
    default_detail = "The movie's list does not have this entry."


class DuplicateMovie(Conflict):
    code = "duplicate_movie"
    default_detail = "A movie with this name, year and runtime already exists."


class DuplicateName(Conflict):
    code = "duplicate_name"
    default_detail = "An entry of this kind with this name already exists."


class AlreadyLinked(Conflict):
    code = "already_linked"
    default_detail = "The movie's list already has this entry."


class EntityInUse(Conflict):
    """Deleting a genre, star, director or certification that movies use (`movie_count`)."""

    code = "in_use"
    default_detail = "Movies still use this entry; it cannot be deleted."


class MoviePurchased(Conflict):
    """Deleting a movie someone owns or has in a pending order (`purchases`, `pending_orders`)."""

    code = "movie_purchased"
    default_detail = "The movie has been bought or is in a pending order; it cannot be deleted."


class MovieInOrders(Conflict):
    """Deleting a movie that past (canceled) orders list (`orders`): they are financial records."""

    code = "movie_in_orders"
    default_detail = (
        "The movie appears in past orders, which are kept as financial records; it cannot be deleted."
    )


class MovieInCarts(Conflict):
    """Deleting a movie that sits in carts without `force` (`carts`: how many)."""

    code = "movie_in_carts"
    default_detail = "The movie is in carts; repeat with force to take it out of them and delete it."


class InvalidPrice(ValidationFailed):
    code = "invalid_price"
    default_detail = "A movie's price must be at least 0.01."


class InvalidRange(ValidationFailed):
    """A list filter whose minimum is above its maximum (`fields`: the pair)."""

    code = "invalid_range"
    default_detail = "A range filter's minimum is greater than its maximum."


class NullNotAllowed(ValidationFailed):
    """A movie update that sets a required field to null (`fields`); keeps `validation_error`."""

    default_detail = "These fields cannot be null."
