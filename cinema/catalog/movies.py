"""Movies: detail, and the moderators' create, update and delete (API.md "Catalog").

Rules:
- (name, year, time) is unique: 409 `duplicate_movie` on create or on an update
  that would collide;
- certification, genres, directors and stars are given by name and created
  when missing; a list given to an update replaces the movie's list, in order;
- one genre, star or director can also be added (at the end) or removed by id
  (`link_entity`, `unlink_entity`: the admin UI's link tables): an entry is on
  a movie's list once (409 `already_linked`);
- delete is refused with 409 `movie_purchased` when someone owns the movie
  (a `purchases` row) or it is in a pending order, with 409 `movie_in_orders`
  when it is only in past (canceled) orders, which are financial records kept
  as they are, and with 409 `movie_in_carts` (and the number of `carts`) when
  it sits in carts, unless `force` is set (then it leaves those carts).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from cinema import sql
from cinema.catalog.entities import SPECS, ensure_names
from cinema.catalog.queries import movie_card, poster_key_sql
from cinema.catalog.schemas import EntityKind, MovieCreate, MovieDetail, MovieUpdate
from cinema.catalog.tables import Movie
from cinema.clock import utcnow
from cinema.commerce.tables import OrderStatus
from cinema.db import is_foreign_key_violation, is_postgres, is_unique_violation, lock_row, transaction
from cinema.errors import Conflict, NotFound, ValidationFailed

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
    return (
        "SELECT m.id, CAST(m.uuid AS TEXT) AS uuid, m.name, m.year, m.time, "  # noqa: S608
        f"{sql.real('m.imdb')} AS imdb_shown, m.votes, {sql.real('m.meta_score')} AS meta_score_shown, m.gross, "
        "m.description, m.price, m.rental_price, m.rental_start_days, m.rental_hours, m.certification_id, "
        "c.name AS certification_name, m.likes, m.dislikes, "
        "m.favorites_count, m.ratings_count, m.ratings_sum, m.comments_count, m.popularity, "
        "m.created_at, m.updated_at, "
        f"{sql.refs_sql('movie_genres', 'genres', 'genre_id', 'm.id')} AS genres, "
        f"{sql.refs_sql('movie_directors', 'directors', 'director_id', 'm.id')} AS directors, "
        f"{sql.refs_sql('movie_stars', 'stars', 'star_id', 'm.id')} AS stars, "
        f"{poster_key_sql('m.id')} AS poster_key"
        f"{mine} FROM movies m JOIN certifications c ON c.id = m.certification_id WHERE m.id = {{}}"
    )


#: The detail statement per (PostgreSQL?, with the caller's state?): built once, not per request
#: (building it looked the engine up six times, a fifth of the detail's own CPU; issue 7).
_DETAIL_SQL: dict[tuple[bool, bool], str] = {}

#: The caller's own state in a detail: null for an anonymous caller (API.md).
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
    as they are; see `queries.list_movies_data`). Raises NotFound for an unknown id.
    """
    with_user = user_id is not None
    key = (is_postgres(), with_user)
    statement = _DETAIL_SQL.get(key)
    if statement is None:
        statement = _DETAIL_SQL[key] = _detail_sql(with_user)
    args: list[Any] = [user_id] * 5 if with_user else []
    rows = await sql.fetch(statement, *args, movie_id)
    if not rows:
        raise NotFound("No such movie.")
    row = rows[0]
    gross = row["gross"]
    values: dict[str, Any] = {
        **movie_card(row),
        "gross": None if gross is None else sql.amount(gross),
        "description": row["description"],
        "rental_start_days": row["rental_start_days"],
        "rental_hours": row["rental_hours"],
        "directors": sql.refs(row["directors"]),
        "stars": sql.refs(row["stars"]),
        "favorites_count": row["favorites_count"],
        "created_at": sql.as_datetime(row["created_at"]),
        "updated_at": sql.as_datetime(row["updated_at"]),
    }
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

    Raises NotFound for an unknown id.
    """
    return _DETAIL.validate_python(await get_movie_data(movie_id, user_id))


async def _key_taken(name: str, year: int, time: int, except_id: int | None = None) -> bool:
    rows = await sql.fetch(
        "SELECT id FROM movies WHERE name = {} AND year = {} AND time = {}", name, year, time
    )
    return any(int(row["id"]) != except_id for row in rows)


def _duplicate(name: str, year: int, time: int) -> Conflict:
    return Conflict(
        f"The movie {name!r} ({year}, {time} min) already exists.",
        code="duplicate_movie",
    )


#: The lowest price a movie may have: a 0.00 movie would make an order no one can pay.
MIN_PRICE = Decimal("0.01")


def check_price(price: Decimal) -> None:
    """Refuse a price under `MIN_PRICE` (0.01): `ValidationFailed` (422 `invalid_price`).

    The schemas bound prices to 0..99999999.99 (DECIMAL(10, 2)); a payment
    provider cannot charge 0.00, so a sellable movie costs at least a cent.
    """
    if price < MIN_PRICE:
        raise ValidationFailed(f"A movie's price must be at least {MIN_PRICE}.", code="invalid_price")


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


async def link_entity(movie_id: int, kind: EntityKind, entity_id: int) -> int:
    """Add one genre, star or director (by id) at the end of a movie's list; returns the link's id.

    Raises NotFound (movie or entity), Conflict `already_linked`.
    """
    join_table, fk = _LINKS[kind]
    async with transaction():
        if not await lock_row("movies", movie_id):
            raise NotFound("No such movie.")
        # Locked too: a concurrent `delete_entity` either sees this link or finds the entity gone here.
        if not await lock_row(SPECS[kind].table, entity_id):
            raise NotFound(f"No such {SPECS[kind].label}.")
        linked = await sql.fetch(
            f"SELECT id FROM {join_table} WHERE movie_id = {{}} AND {fk} = {{}}",  # noqa: S608
            movie_id,
            entity_id,
        )
        if linked:
            raise Conflict(f"The movie already has this {SPECS[kind].label}.", code="already_linked")
        rows = await sql.fetch(
            f"INSERT INTO {join_table} (movie_id, {fk}) VALUES ({{}}, {{}}) RETURNING id",  # noqa: S608
            movie_id,
            entity_id,
        )
        await Movie.update({Movie.updated_at: utcnow()}).where(Movie.id == movie_id)
    return int(rows[0]["id"])


async def unlink_entity(movie_id: int, kind: EntityKind, entity_id: int) -> None:
    """Remove one genre, star or director (by id) from a movie's list.

    Raises NotFound (the movie, or `not_linked` when the entry is not on its list).
    """
    join_table, fk = _LINKS[kind]
    async with transaction():
        if not await lock_row("movies", movie_id):
            raise NotFound("No such movie.")
        deleted = await sql.fetch(
            f"DELETE FROM {join_table} WHERE movie_id = {{}} AND {fk} = {{}} RETURNING id",  # noqa: S608
            movie_id,
            entity_id,
        )
        if not deleted:
            raise NotFound(f"The movie has no such {SPECS[kind].label}.", code="not_linked")
        await Movie.update({Movie.updated_at: utcnow()}).where(Movie.id == movie_id)


async def create_movie(data: MovieCreate) -> MovieDetail:
    """Add a movie with its entities (created when missing, matched case-insensitively).

    Raises Conflict(`duplicate_movie`), ValidationFailed (422 `invalid_price` under 0.01,
    for the price or a rental price).
    """
    check_price(data.price)
    if data.rental_price is not None:
        check_price(data.rental_price)
    async with transaction():
        if await _key_taken(data.name, data.year, data.time):
            raise _duplicate(data.name, data.year, data.time)
        [cert_name] = await canonical_names(EntityKind.CERTIFICATIONS, [data.certification])
        certification = (await ensure_names(EntityKind.CERTIFICATIONS, [cert_name]))[cert_name]
        now = utcnow()
        movie = Movie(
            name=data.name,
            year=data.year,
            time=data.time,
            imdb=data.imdb,
            votes=data.votes,
            meta_score=data.meta_score,
            gross=data.gross,
            description=data.description,
            price=data.price,
            rental_price=data.rental_price,
            rental_start_days=data.rental_start_days,
            rental_hours=data.rental_hours,
            certification=certification,
            created_at=now,
            updated_at=now,
        )
        try:
            await movie.save()
        except Exception as exc:  # a concurrent create of the same (name, year, time)
            if is_unique_violation(exc):
                raise _duplicate(data.name, data.year, data.time) from exc
            raise
        movie_id = int(movie.id)
        for relation in RELATIONS:
            await _set_relation(movie_id, relation, getattr(data, relation), replace=False)
    return await get_movie(movie_id)


_SCALARS = (
    "name",
    "year",
    "time",
    "imdb",
    "votes",
    "meta_score",
    "gross",
    "description",
    "price",
    "rental_price",
    "rental_start_days",
    "rental_hours",
)
#: Fields a PATCH may not set to null (an empty list clears genres, directors or stars).
_NOT_NULL = {
    "name",
    "year",
    "time",
    "imdb",
    "votes",
    "description",
    "price",
    "certification",
    "genres",
    "directors",
    "stars",
}


async def update_movie(movie_id: int, data: MovieUpdate) -> MovieDetail:
    """Change the fields given in `data` (a list replaces the movie's list).

    `meta_score`, `gross`, `rental_price` (no rental offered) and the rental
    window (the settings' then) may be set to null; other fields given as null
    are refused. A rental already paid keeps the terms it was paid with.
    Raises NotFound, Conflict(`duplicate_movie`), ValidationFailed (422).
    """
    given = data.model_fields_set
    nulls = sorted(f for f in given & _NOT_NULL if getattr(data, f) is None)
    if nulls:
        raise ValidationFailed(f"These fields cannot be null: {', '.join(nulls)}.", fields=nulls)
    for price in (data.price, data.rental_price):
        if price is not None:
            check_price(price)
    async with transaction():
        if not await lock_row("movies", movie_id):
            raise NotFound("No such movie.")
        current = await Movie.select(Movie.name, Movie.year, Movie.time).where(Movie.id == movie_id).first()
        assert current is not None
        name = data.name if "name" in given and data.name is not None else current["name"]
        year = data.year if "year" in given and data.year is not None else current["year"]
        time = data.time if "time" in given and data.time is not None else current["time"]
        if (name, year, time) != (current["name"], current["year"], current["time"]) and await _key_taken(
            name, year, time, except_id=movie_id
        ):
            raise _duplicate(name, year, time)
        values: dict[Any, Any] = {getattr(Movie, f): getattr(data, f) for f in _SCALARS if f in given}
        if "certification" in given and data.certification is not None:
            [cert_name] = await canonical_names(EntityKind.CERTIFICATIONS, [data.certification])
            ids = await ensure_names(EntityKind.CERTIFICATIONS, [cert_name])
            values[Movie.certification] = ids[cert_name]
        if not given:  # an empty PATCH changes nothing, not even updated_at
            return await get_movie(movie_id)
        values[Movie.updated_at] = utcnow()
        await Movie.update(values).where(Movie.id == movie_id)
        for relation in RELATIONS:
            if relation in given:
                await _set_relation(movie_id, relation, getattr(data, relation), replace=True)
    return await get_movie(movie_id)


async def delete_movie(movie_id: int, *, force: bool = False) -> None:
    """Delete a movie and what hangs off it (reactions, comments, favorites, cart items).

    Raises NotFound; Conflict `movie_purchased` (owned by someone, or in a pending
    order), `movie_in_orders` (in past orders only), `movie_in_carts` with
    `carts` (the number of carts holding it) unless `force`.
    """
    async with transaction():
        if not await lock_row("movies", movie_id):
            raise NotFound("No such movie.")
        usage = (
            await sql.fetch(
                "SELECT (SELECT count(*) FROM purchases WHERE movie_id = {}) AS purchases, "
                "(SELECT count(*) FROM order_items oi JOIN orders o ON o.id = oi.order_id "
                " WHERE oi.movie_id = {} AND o.status = {}) AS pending, "
                "(SELECT count(*) FROM order_items WHERE movie_id = {}) AS ordered, "
                "(SELECT count(DISTINCT cart_id) FROM cart_items WHERE movie_id = {}) AS carts",
                movie_id,
                movie_id,
                OrderStatus.PENDING.value,
                movie_id,
                movie_id,
            )
        )[0]
        if usage["purchases"] or usage["pending"]:
            raise Conflict(
                "The movie has been bought or is in a pending order; it cannot be deleted.",
                code="movie_purchased",
                purchases=int(usage["purchases"]),
                pending_orders=int(usage["pending"]),
            )
        if usage["ordered"]:
            raise Conflict(
                "The movie appears in past orders, which are kept as financial records; "
                "it cannot be deleted.",
                code="movie_in_orders",
                orders=int(usage["ordered"]),
            )
        carts = int(usage["carts"])
        if carts and not force:
            raise Conflict(
                f"The movie is in {carts} cart(s); repeat with force=true to delete it from them too.",
                code="movie_in_carts",
                carts=carts,
            )
        try:
            await sql.fetch("DELETE FROM movies WHERE id = {}", movie_id)
        except Exception as exc:  # a reference added despite the lock (should not happen)
            if is_foreign_key_violation(exc):
                raise Conflict(
                    "The movie is referenced by orders or purchases; it cannot be deleted.",
                    code="movie_purchased",
                ) from exc
            raise
