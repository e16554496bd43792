"""Checks that other domains run before a movie is deleted.

The catalog sits below commerce in the layers (the import-linter contract in
pyproject.toml), so it cannot ask whether a movie was bought or
sits in a cart. Commerce registers a guard here instead
(`cinema/commerce/movie_guards.py`); the composition root `cinema/piccolo_app.py`
imports that module, and every process imports the composition root before it
can reach the database (Piccolo's engine is found through `cinema.piccolo_conf`,
whose app registry imports it). So the API, the CLI, the admin, the worker and
the tests all delete movies under the same guards.

`movies.delete_movie` runs every guard inside its transaction, after locking the
movie row, in the order they were registered. A guard refuses by raising a
catalog error (`MoviePurchased`, `MovieInOrders`, `MovieInCarts`, ...). A guard
may also prepare what follows the deletion once it commits (media deletes the
movie's stored objects, `cinema/media/movie_guards.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

#: `guard(movie_id, force=...)`: raise to refuse deleting the movie. `force` is the
#: caller's "also take it out of what merely holds it" (carts), which a guard may honour.
DeleteGuard = Callable[..., Awaitable[None]]

_DELETE_GUARDS: list[DeleteGuard] = []


def register_delete_guard(guard: DeleteGuard) -> DeleteGuard:
    """Add `guard` to the checks `delete_movie` runs (once, however often it is registered)."""
    if guard not in _DELETE_GUARDS:
        _DELETE_GUARDS.append(guard)
    return guard


def delete_guards() -> tuple[DeleteGuard, ...]:
    """The registered guards, in registration order."""
    return tuple(_DELETE_GUARDS)
