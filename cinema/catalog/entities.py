"""Genres, stars, directors and certifications: lists with movie counts, CRUD, and name resolution.

Rules (docs/api.md, "Catalog"): writes need MODERATOR or above; names are
unique (409 `duplicate_name`); deleting an entry that movies still use is
refused (409 `in_use`, with `movie_count`); `/stars` and `/directors` are paged
and searchable, `/genres` and `/certifications` are short lists answered whole
(they take `search` too). A missing entry is its kind's not-found error
(`genre_not_found`, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cinema import sql
from cinema.accounts.actor import CurrentUser
from cinema.catalog.access import require_moderator
from cinema.catalog.errors import (
    CertificationNotFound,
    DirectorNotFound,
    DuplicateName,
    EntityInUse,
    GenreNotFound,
    StarNotFound,
)
from cinema.catalog.queries import list_movies_data
from cinema.catalog.schemas import EntityKind, EntityOut, MovieFilters
from cinema.db import lock_row, transaction
from cinema.errors import NotFound
from cinema.pagination import Page, PageParams

#: How many names one SELECT/INSERT carries (well under both engines' bind limits).
NAME_CHUNK = 2000


@dataclass(frozen=True)
class EntitySpec:
    """Where an entity kind lives: its table, and how movies point at it."""

    table: str
    #: `movie_count` of an entity row aliased `e`.
    count_sql: str
    #: Raised when no entry of this kind has the id.
    not_found: type[NotFound]


SPECS: dict[EntityKind, EntitySpec] = {
    EntityKind.GENRES: EntitySpec(
        "genres", "(SELECT count(*) FROM movie_genres j WHERE j.genre_id = e.id)", GenreNotFound
    ),
    EntityKind.STARS: EntitySpec(
        "stars", "(SELECT count(*) FROM movie_stars j WHERE j.star_id = e.id)", StarNotFound
    ),
    EntityKind.DIRECTORS: EntitySpec(
        "directors", "(SELECT count(*) FROM movie_directors j WHERE j.director_id = e.id)", DirectorNotFound
    ),
    EntityKind.CERTIFICATIONS: EntitySpec(
        "certifications",
        "(SELECT count(*) FROM movies j WHERE j.certification_id = e.id)",
        CertificationNotFound,
    ),
}


async def ensure_names(kind: EntityKind, names: Iterable[str]) -> dict[str, int]:
    """Ids of the named entities, creating the missing ones; `{name: id}`.

    Bulk: one SELECT per batch of names (`NAME_CHUNK` on SQLite, 20 times more
    on PostgreSQL where they travel as one array), then one multi-row
    `INSERT ... ON CONFLICT (name) DO NOTHING RETURNING` per batch of the
    missing ones (a name a concurrent writer inserted meanwhile is re-read).
    Names are matched exactly (case-sensitive, like the unique constraint).
    """
    table = SPECS[kind].table
    wanted = list(dict.fromkeys(names))
    size = sql.batch_size(NAME_CHUNK, 20 * NAME_CHUNK)

    async def select(chunk: Sequence[str]) -> None:
        where, args = sql.any_of("name", chunk, "text")
        rows = await sql.fetch(f"SELECT id, name FROM {table} WHERE {where}", *args)  # noqa: S608
        found.update((row["name"], int(row["id"])) for row in rows)

    found: dict[str, int] = {}
    for chunk in sql.chunks(wanted, size):
        await select(chunk)
    missing = [name for name in wanted if name not in found]
    for chunk in sql.chunks(missing, size):
        source, args = sql.rows_source(["text"], [(name,) for name in chunk])
        rows = await sql.fetch(
            f"INSERT INTO {table} (name) {source} ON CONFLICT (name) DO NOTHING RETURNING id, name",
            *args,
        )
        found.update((row["name"], int(row["id"])) for row in rows)
    raced = [name for name in missing if name not in found]
    if raced:
        await select(raced)
    return found


def _out(row: sql.Row) -> EntityOut:
    return EntityOut(id=int(row["id"]), name=row["name"], movie_count=int(row["movie_count"]))


def _search(search: str | None) -> tuple[str, list[str]]:
    term = (search or "").strip()
    if not term:
        return "", []
    return f"WHERE e.name {sql.like()} {{}} ESCAPE '\\'", [sql.like_pattern(term)]


async def list_entities(kind: EntityKind, search: str | None = None) -> list[EntityOut]:
    """Every entry of `kind` (optionally names containing `search`), by name, with `movie_count`."""
    spec = SPECS[kind]
    where, args = _search(search)
    rows = await sql.fetch(
        f"SELECT e.id, e.name, {spec.count_sql} AS movie_count FROM {spec.table} e {where} "  # noqa: S608
        "ORDER BY e.name, e.id",
        *args,
    )
    return [_out(row) for row in rows]


async def page_entities(kind: EntityKind, params: PageParams, search: str | None = None) -> Page[EntityOut]:
    """A page of `kind` by name (optionally names containing `search`), with `movie_count`."""
    spec = SPECS[kind]
    where, args = _search(search)
    counted = await sql.fetch(f"SELECT count(*) AS n FROM {spec.table} e {where}", *args)  # noqa: S608
    rows = await sql.fetch(
        f"SELECT e.id, e.name, {spec.count_sql} AS movie_count FROM {spec.table} e {where} "  # noqa: S608
        "ORDER BY e.name, e.id LIMIT {} OFFSET {}",
        *args,
        params.per_page,
        params.offset,
    )
    return Page[EntityOut].build([_out(row) for row in rows], params, int(counted[0]["n"]))


async def _get(kind: EntityKind, entity_id: int) -> EntityOut | None:
    spec = SPECS[kind]
    rows = await sql.fetch(
        f"SELECT e.id, e.name, {spec.count_sql} AS movie_count FROM {spec.table} e WHERE e.id = {{}}",  # noqa: S608
        entity_id,
    )
    return _out(rows[0]) if rows else None


async def get_entity(kind: EntityKind, entity_id: int) -> EntityOut:
    """One entry with its `movie_count`. Raises the kind's not-found error."""
    found = await _get(kind, entity_id)
    if found is None:
        raise SPECS[kind].not_found()
    return found


async def lock_entity(kind: EntityKind, entity_id: int) -> None:
    """Lock the entry's row for this transaction; raise the kind's not-found error when there is none."""
    if not await lock_row(SPECS[kind].table, entity_id):
        raise SPECS[kind].not_found()


async def entity_movies(
    kind: EntityKind, entity_id: int, filters: MovieFilters, params: PageParams
) -> dict[str, Any]:
    """The movie list restricted to one entry (`GET /genres/{id}/movies`...), as
    `queries.list_movies_data` returns it. Raises the kind's not-found error.

    Existence is checked only when the list is empty, so a hit costs the list's one statement.
    """
    page = await list_movies_data(filters.with_entity(kind, entity_id), params)
    if page["total"] == 0 and await _get(kind, entity_id) is None:
        raise SPECS[kind].not_found()
    return page


async def create_entity(actor: CurrentUser, kind: EntityKind, name: str) -> EntityOut:
    """Add an entry. Raises RoleRequired, DuplicateName."""
    require_moderator(actor)
    spec = SPECS[kind]
    async with transaction():
        rows = await sql.fetch(
            f"INSERT INTO {spec.table} (name) VALUES ({{}}) ON CONFLICT (name) DO NOTHING RETURNING id, name",  # noqa: S608
            name,
        )
    if not rows:
        raise DuplicateName(name=name)
    return EntityOut(id=int(rows[0]["id"]), name=rows[0]["name"], movie_count=0)


async def rename_entity(actor: CurrentUser, kind: EntityKind, entity_id: int, name: str) -> EntityOut:
    """Rename an entry. Raises RoleRequired, the kind's not-found error, DuplicateName."""
    require_moderator(actor)
    spec = SPECS[kind]
    async with transaction():
        current = await get_entity(kind, entity_id)
        if current.name == name:
            return current
        clash = await sql.fetch(
            f"SELECT id FROM {spec.table} WHERE name = {{}} AND id <> {{}}",  # noqa: S608
            name,
            entity_id,
        )
        if clash:
            raise DuplicateName(name=name)
        await sql.fetch(f"UPDATE {spec.table} SET name = {{}} WHERE id = {{}}", name, entity_id)  # noqa: S608
    return EntityOut(id=entity_id, name=name, movie_count=current.movie_count)


async def delete_entity(actor: CurrentUser, kind: EntityKind, entity_id: int) -> None:
    """Delete an entry no movie uses. Raises RoleRequired, the kind's not-found error,
    EntityInUse (with `movie_count`)."""
    require_moderator(actor)
    spec = SPECS[kind]
    async with transaction():
        await lock_entity(kind, entity_id)
        current = await get_entity(kind, entity_id)
        if current.movie_count:
            raise EntityInUse(movie_count=current.movie_count)
        await sql.fetch(f"DELETE FROM {spec.table} WHERE id = {{}}", entity_id)  # noqa: S608
