"""Movies: detail, and the moderators' create, update and delete (docs/api.md, "Catalog").

Rules:
- writes need MODERATOR or above (`actor`), whichever door they come through;
- (name, year, time) is unique: 409 `duplicate_movie` on create or on an update
  that would collide;
- a price, and a rental price when there is one, is at least 0.01 (422 `invalid_price`);
- certification, genres, directors and stars are given by name and created
  when missing; a list given to an update replaces the movie's list, in order;
- one genre, star or director can also be added (at the end) or removed by id
  (`link_entity`, `unlink_entity`: the admin UI's link tables): an entry is on
  a movie's list once (409 `already_linked`);
- delete runs the guards other domains registered (cinema/catalog/guards.py):
  commerce refuses a movie that was bought, is in an order, or, without
  `force`, sits in carts (cinema/commerce/movie_guards.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from cinema import sql
from cinema.accounts.actor import CurrentUser
from cinema.catalog.access import require_moderator
from cinema.catalog.entities import SPECS, ensure_names, lock_entity
from cinema.catalog.errors import (
    AlreadyLinked,
    DuplicateMovie,
    InvalidPrice,
    MovieNotFound,
    MoviePurchased,
    NotLinked,
    NullNotAllowed,
)
from cinema.catalog.guards import delete_guards
from cinema.catalog.queries import CARD_SCALARS, DETAIL_SCALARS, movie_card, poster_key_sql, read_scalars
from cinema.catalog.schemas import MOVIE_SCALARS, EntityKind, MovieCreate, MovieDetail, MovieUpdate
from cinema.catalog.tables import Movie
from cinema.clock import utcnow
from cinema.db import is_foreign_key_violation, is_postgres, is_unique_violation, lock_row, transaction

#: (join table, entity FK column, entity kind) for the three many-to-many lists.
RELATIONS: dict[str, tuple[str, str, EntityKind]] = {
    "genres": ("movie_genres", "genre_id", EntityKind.GENRES),
    "directors": ("movie_directors", "director_id", EntityKind.DIRECTORS),
    "stars": ("movie_stars", "star_id", EntityKind.STARS),
}


def _detail_sql(with_user: bool) -> str:
    mine = ""
    if with_user:
        mine = (
            ", (SELECT r.reaction FROM reactions r WHERE r.movie_id = m.id AND r.user_id = {}) AS my_reaction"
            ", (SELECT ra.score FROM ratings ra WHERE ra.movie_id = m.id AND ra.user_id = {}) AS my_rating"
            ", (SELECT count(*) FROM favorites f WHERE f.movie_id = m.id AND f.user_id = {}) AS is_favorite"
            ", (SELECT count(*) FROM purchases pu WHERE pu.movie_id = m.id AND pu.user_id = {}) AS is_purchased"
            ", (SELECT wp.position_seconds FROM watch_progress wp WHERE wp.movie_id = m.id AND wp.user_id = {})"
            " AS resume_position"
        )
    scalars = ", ".join(scalar.select("m") for scalar in (*CARD_SCALARS, *DETAIL_SCALARS))
    return (
        f"SELECT m.id, CAST(m.uuid AS TEXT) AS uuid, {scalars}, "  # noqa: S608 - fixed fragments only
        "m.certification_id, c.name AS certification_name, m.likes, m.dislikes, "
        "m.favorites_count, m.ratings_count, m.ratings_sum, m.comments_count, m.popularity, "
        "m.created_at, m.updated_at, "
        f"{sql.refs_sql('movie_genres', 'genres', 'genre_id', 'm.id')} AS genres, "
        f"{sql.refs_sql('movie_directors', 'directors', 'director_id', 'm.id')} AS directors, "
        f"{sql.refs_sql('movie_stars', 'stars', 'star_id', 'm.id')} AS stars, "
        f"{poster_key_sql('m.id')} AS poster_key"
        f"{mine} FROM movies m JOIN certifications c ON c.id = m.certification_id WHERE m.id = {{}}"
    )


#: The detail statement per (PostgreSQL?, with the caller's state?), built once, not per
#: request: building it looks the engine up several times, a fifth of the detail's own CPU.
_DETAIL_SQL: dict[tuple[bool, bool], str] = {}

#: The caller's own state in a detail: null for an anonymous caller (docs/api.md, "Catalog").
_ANONYMOUS = {
    "my_reaction": None,
    "my_rating": None,
    "is_favorite": None,
    "is_purchased": None,
    "resume_position_seconds": None,
}


async def get_movie_data(movie_id: int, user_id: int | None = None) -> dict[str, Any]:
    """The full detail of one movie (one SQL statement); with `user_id`, the caller's own state.

    Returns the `MovieDetail` shape as JSON-ready values (the API encodes them
    as they are; see `queries.list_movies_data`). Raises MovieNotFound.
    """
    with_user = user_id is not None
    key = (is_postgres(), with_user)
    statement = _DETAIL_SQL.get(key)
    if statement is None:
        statement = _DETAIL_SQL[key] = _detail_sql(with_user)
    args: list[Any] = [user_id] * 5 if with_user else []
    rows = await sql.fetch(statement, *args, movie_id)
    if not rows:
        raise MovieNotFound()
    row = rows[0]
    values = movie_card(row)
    read_scalars(row, DETAIL_SCALARS, values)
    values["directors"] = sql.refs(row["directors"])
    values["stars"] = sql.refs(row["stars"])
    values["favorites_count"] = row["favorites_count"]
    values["created_at"] = sql.as_datetime(row["created_at"])
    values["updated_at"] = sql.as_datetime(row["updated_at"])
    if with_user:
        values["my_reaction"] = row["my_reaction"]
        values["my_rating"] = row["my_rating"]
        values["is_favorite"] = bool(row["is_favorite"])
        values["is_purchased"] = bool(row["is_purchased"])
        resume = row["resume_position"]
        values["resume_position_seconds"] = float(resume) if resume else None
    else:
        values.update(_ANONYMOUS)
    return values


_DETAIL: TypeAdapter[MovieDetail] = TypeAdapter(MovieDetail)


async def get_movie(movie_id: int, user_id: int | None = None) -> MovieDetail:
    """`get_movie_data` as a validated `MovieDetail` (Python callers, and the moderators' writes).

    Raises MovieNotFound.
    """
    return _DETAIL.validate_python(await get_movie_data(movie_id, user_id))


async def _key_taken(name: str, year: int, time: int, except_id: int | None = None) -> bool:
    rows = await sql.fetch(
        "SELECT id FROM movies WHERE name = {} AND year = {} AND time = {}", name, year, time
    )
    return any(int(row["id"]) != except_id for row in rows)


#: The lowest price a movie may have: a 0.00 movie would make an order no one can pay.
MIN_PRICE = Decimal("0.01")


def check_price(price: Decimal) -> None:
    """Refuse a price under `MIN_PRICE` (0.01): `InvalidPrice` (422 `invalid_price`).

    The schemas bound prices to 0..99999999.99 (DECIMAL(10, 2)); a payment
    provider cannot charge 0.00, so a sellable movie costs at least a cent.
    """
    if price < MIN_PRICE:
        raise InvalidPrice()


async def canonical_names(kind: EntityKind, names: list[str]) -> list[str]:
    """`names` without case-insensitive duplicates, each spelled like an existing entity when one matches.

    `["GenreX", "genrex"]` is one genre, and `"drama"` reuses an existing
    `"Drama"` rather than creating a second entity differing only in case.
    Keeps the first spelling and the given order. (Case folding is ASCII on
    SQLite, whose `lower()` only folds ASCII; full Unicode on PostgreSQL.)
    """
    firsts: dict[str, str] = {}
    for name in names:
        firsts.setdefault(name.lower(), name)
    if not firsts:
        return []
    table = SPECS[kind].table
    folded = list(firsts)
    rows = await sql.fetch(
        f"SELECT name FROM {table} WHERE lower(name) IN ({sql.placeholders(len(folded))}) ORDER BY id",  # noqa: S608
        *folded,
    )
    existing: dict[str, str] = {}
    for row in rows:
        existing.setdefault(str(row["name"]).lower(), str(row["name"]))
    return [existing.get(key, name) for key, name in firsts.items()]


async def _certification_id(name: str) -> int:
    """The id of the certification named `name` (case-insensitively), created when missing."""
    [canonical] = await canonical_names(EntityKind.CERTIFICATIONS, [name])
    return (await ensure_names(EntityKind.CERTIFICATIONS, [canonical]))[canonical]


async def _set_relation(movie_id: int, relation: str, names: list[str], *, replace: bool) -> None:
    """Point the movie at the named entities, in the given order (creating missing names).

    Names are matched case-insensitively (`canonical_names`).
    """
    join_table, fk, kind = RELATIONS[relation]
    if replace:
        await sql.fetch(f"DELETE FROM {join_table} WHERE movie_id = {{}}", movie_id)  # noqa: S608
    ordered = await canonical_names(kind, names)
    if not ordered:
        return
    ids = await ensure_names(kind, ordered)
    values = ", ".join(["({}, {})"] * len(ordered))
    args: list[int] = []
    for name in ordered:
        args += [movie_id, ids[name]]
    await sql.fetch(f"INSERT INTO {join_table} (movie_id, {fk}) VALUES {values}", *args)  # noqa: S608


#: The join table and entity column of each list, by entity kind.
_LINKS: dict[EntityKind, tuple[str, str]] = {kind: (table, fk) for table, fk, kind in RELATIONS.values()}


async def _lock_movie(movie_id: int) -> None:
    """Lock the movie's row for this transaction; raise MovieNotFound when there is none."""
    if not await lock_row("movies", movie_id):
        raise MovieNotFound()


async def link_entity(actor: CurrentUser, movie_id: int, kind: EntityKind, entity_id: int) -> int:
    """Add one genre, star or director (by id) at the end of a movie's list; returns the link's id.

    Raises RoleRequired, MovieNotFound, the kind's not-found error, AlreadyLinked.
    """
    require_moderator(actor)
    join_table, fk = _LINKS[kind]
    async with transaction():
        await _lock_movie(movie_id)
        # Locked too: a concurrent `delete_entity` either sees this link or finds the entity gone here.
        await lock_entity(kind, entity_id)
        linked = await sql.fetch(
            f"SELECT id FROM {join_table} WHERE movie_id = {{}} AND {fk} = {{}}",  # noqa: S608
            movie_id,
            entity_id,
        )
        if linked:
            raise AlreadyLinked(kind=kind.value)
        rows = await sql.fetch(
            f"INSERT INTO {join_table} (movie_id, {fk}) VALUES ({{}}, {{}}) RETURNING id",  # noqa: S608
            movie_id,
            entity_id,
        )
        await Movie.update({Movie.updated_at: utcnow()}).where(Movie.id == movie_id)
    return int(rows[0]["id"])


async def unlink_entity(actor: CurrentUser, movie_id: int, kind: EntityKind, entity_id: int) -> None:
    """Remove one genre, star or director (by id) from a movie's list.

    Raises RoleRequired, MovieNotFound, NotLinked (the entry is not on its list).
    """
    require_moderator(actor)
    join_table, fk = _LINKS[kind]
    async with transaction():
        await _lock_movie(movie_id)
        deleted = await sql.fetch(
            f"DELETE FROM {join_table} WHERE movie_id = {{}} AND {fk} = {{}} RETURNING id",  # noqa: S608
            movie_id,
            entity_id,
        )
        if not deleted:
            raise NotLinked(kind=kind.value)
        await Movie.update({Movie.updated_at: utcnow()}).where(Movie.id == movie_id)


async def create_movie(actor: CurrentUser, data: MovieCreate) -> MovieDetail:
    """Add a movie with its entities (created when missing, matched case-insensitively).

    Raises RoleRequired, DuplicateMovie, InvalidPrice.
    """
    require_moderator(actor)
    for price in (data.price, data.rental_price):
        if price is not None:
            check_price(price)
    async with transaction():
        if await _key_taken(data.name, data.year, data.time):
            raise DuplicateMovie()
        now = utcnow()
        movie = Movie(
            **{name: getattr(data, name) for name in MOVIE_SCALARS},
            certification=await _certification_id(data.certification),
            created_at=now,
            updated_at=now,
        )
        try:
            await movie.save()
        except Exception as exc:  # a concurrent create of the same (name, year, time)
            if is_unique_violation(exc):
                raise DuplicateMovie() from exc
            raise
        movie_id = int(movie.id)
        for relation in RELATIONS:
            await _set_relation(movie_id, relation, getattr(data, relation), replace=False)
    return await get_movie(movie_id)


#: Fields an update may set to null: those `MovieCreate` accepts null for (an empty
#: list, not null, clears genres, directors or stars).
_NULLABLE = frozenset(
    name for name, info in MovieCreate.model_fields.items() if not info.is_required() and info.default is None
)


async def update_movie(actor: CurrentUser, movie_id: int, data: MovieUpdate) -> MovieDetail:
    """Change the fields given in `data` (a list replaces the movie's list).

    Fields `MovieCreate` accepts null for (`meta_score`, `gross`, `rental_price`:
    no rental offered, the rental window: the settings') may be set to null;
    other fields given as null are refused. A rental already paid keeps the
    window it was paid with. Raises RoleRequired,
    NullNotAllowed (with `fields`), InvalidPrice, MovieNotFound, DuplicateMovie.
    """
    require_moderator(actor)
    given = data.model_fields_set
    nulls = sorted(f for f in given - _NULLABLE if getattr(data, f) is None)
    if nulls:
        raise NullNotAllowed(fields=nulls)
    for price in (data.price, data.rental_price):
        if price is not None:
            check_price(price)
    async with transaction():
        await _lock_movie(movie_id)
        current = await Movie.select(Movie.name, Movie.year, Movie.time).where(Movie.id == movie_id).first()
        assert current is not None
        name, year, time = (getattr(data, f) if f in given else current[f] for f in ("name", "year", "time"))
        if (name, year, time) != (current["name"], current["year"], current["time"]) and await _key_taken(
            name, year, time, except_id=movie_id
        ):
            raise DuplicateMovie()
        if not given:  # an empty PATCH changes nothing, not even updated_at
            return await get_movie(movie_id)
        values: dict[Any, Any] = {getattr(Movie, f): getattr(data, f) for f in MOVIE_SCALARS if f in given}
        if data.certification is not None:
            values[Movie.certification] = await _certification_id(data.certification)
        values[Movie.updated_at] = utcnow()
        await Movie.update(values).where(Movie.id == movie_id)
        for relation in RELATIONS:
            if relation in given:
                await _set_relation(movie_id, relation, getattr(data, relation), replace=True)
    return await get_movie(movie_id)


async def delete_movie(actor: CurrentUser, movie_id: int, *, force: bool = False) -> None:
    """Delete a movie and what hangs off it (reactions, comments, favorites, cart items).

    Raises RoleRequired, MovieNotFound, and whatever a registered delete
    guard raises (cinema/catalog/guards.py): MoviePurchased, MovieInOrders,
    MovieInCarts (with `carts`, unless `force`).
    """
    require_moderator(actor)
    async with transaction():
        await _lock_movie(movie_id)
        for guard in delete_guards():
            await guard(movie_id, force=force)
        try:
            await sql.fetch("DELETE FROM movies WHERE id = {}", movie_id)
        except Exception as exc:
            # A row that points at the movie with ON DELETE RESTRICT (an order or a
            # purchase) that no guard checked: refused the same way.
            if is_foreign_key_violation(exc):
                raise MoviePurchased() from exc
            raise
