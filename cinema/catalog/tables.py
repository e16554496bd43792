"""Catalog tables: movies and the named entities they link to.

Join tables carry a surrogate `id` (Piccolo tables have one primary-key
column) and a UNIQUE(movie, other) constraint that plays the composite key's
role. Counters on `movies` (likes, favorites, ...) are kept by the services in
the same transaction as the change that moves them, so list sorting by
popularity and the detail view need no aggregation at read time.
"""

from __future__ import annotations

from piccolo.columns import (
    UUID,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Real,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.readable import Readable
from piccolo.table import Table


class _Named(Table):
    """A catalog entity known by a unique name."""

    name = Varchar(length=255, unique=True)

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.name])


class Certification(_Named, tablename="certifications"):
    id: Serial
    pass


class Genre(_Named, tablename="genres"):
    id: Serial
    pass


class Star(_Named, tablename="stars"):
    id: Serial
    pass


class Director(_Named, tablename="directors"):
    id: Serial
    pass


class Movie(Table, tablename="movies"):
    """A film for sale. `time` is the runtime in minutes; `price` is Decimal(10,2)."""

    id: Serial

    uuid = UUID(unique=True)
    name = Varchar(length=255)
    year = Integer()
    time = Integer()
    imdb = Real()
    votes = Integer()
    meta_score = Real(null=True, default=None)
    gross = Numeric(digits=(16, 2), null=True, default=None)
    description = Text()
    price = Numeric(digits=(10, 2))
    #: The price of a rental; null when the movie is not offered for rent (docs/entitlements.md, "Rentals").
    rental_price = Numeric(digits=(10, 2), null=True, default=None)
    #: Days a renter has to start watching; null: `RENTAL_START_DAYS`.
    rental_start_days = Integer(null=True, default=None)
    #: Hours a started rental runs; null: `RENTAL_HOURS`.
    rental_hours = Integer(null=True, default=None)
    certification = ForeignKey(
        Certification, null=False, on_delete=OnDelete.restrict, index=True, db_column_name="certification_id"
    )
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), auto_update=TimestamptzNow().python)

    likes = Integer(default=0)
    dislikes = Integer(default=0)
    favorites_count = Integer(default=0)
    purchases_count = Integer(default=0)
    ratings_count = Integer(default=0)
    ratings_sum = Integer(default=0)
    comments_count = Integer(default=0)
    #: likes + favorites + purchases (the `popularity` sort, docs/api.md "Catalog").
    popularity = Integer(default=0)

    # UNIQUE(name, year, time) as unique index "movies_unique": migration 0003.
    # Filters and sorts on name, year, imdb, votes, price, popularity and
    # created_at use the composite (column, id) indexes of migration 0004 (the
    # id makes the order stable for paging); single-column indexes would only
    # slow writes (bulk imports) down. Search uses its pg_trgm indexes (0004).

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s (%s)", columns=[cls.name, cls.year])


class MovieGenre(Table, tablename="movie_genres"):
    id: Serial
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, db_column_name="movie_id")
    genre = ForeignKey(Genre, null=False, on_delete=OnDelete.restrict, index=True, db_column_name="genre_id")
    # UNIQUE(movie_id, genre_id) as unique index "movie_genres_unique": migration 0003.


class MovieStar(Table, tablename="movie_stars"):
    id: Serial
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, db_column_name="movie_id")
    star = ForeignKey(Star, null=False, on_delete=OnDelete.restrict, index=True, db_column_name="star_id")
    # UNIQUE(movie_id, star_id) as unique index "movie_stars_unique": migration 0003.


class MovieDirector(Table, tablename="movie_directors"):
    id: Serial
    movie = ForeignKey(Movie, null=False, on_delete=OnDelete.cascade, db_column_name="movie_id")
    director = ForeignKey(
        Director, null=False, on_delete=OnDelete.restrict, index=True, db_column_name="director_id"
    )
    # UNIQUE(movie_id, director_id) as unique index "movie_directors_unique": migration 0003.
