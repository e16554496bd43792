"""Request and response models of the catalog (docs/api.md, "Catalog").

Money (`price`, `gross`) uses `cinema.money.Money`: a Decimal with two
places, a JSON string with exactly two decimals (`"19.99"`). Related entities
(genres, stars, directors, certification) are `{"id", "name"}` objects, so a
client can follow them to the list filters (`genre_id=...`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from cinema.catalog.errors import InvalidRange
from cinema.ids import Id
from cinema.money import Money
from cinema.text import NoControlCharacters

#: A catalog entity name: trimmed, 1..255 characters (the columns are VARCHAR(255)), one line.
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), NoControlCharacters()
]
Description = Annotated[str, StringConstraints(max_length=10_000), NoControlCharacters(multiline=True)]

#: Bounds shared by the API, the importer and the CLI.
YEAR_MIN, YEAR_MAX = 1870, 2100
TIME_MAX = 10_000  # minutes
PRICE_MAX = Decimal("99999999.99")  # DECIMAL(10, 2)
GROSS_MAX = Decimal("99999999999999.99")  # DECIMAL(16, 2)
VOTES_MAX = 2_147_483_647  # INTEGER


class EntityKind(enum.StrEnum):
    """The four named entities of the catalog, by their URL segment."""

    GENRES = "genres"
    STARS = "stars"
    DIRECTORS = "directors"
    CERTIFICATIONS = "certifications"


class SortKey(enum.StrEnum):
    """`sort` of the movie lists: a field, optionally prefixed by `-` for descending.

    `popularity` is likes + favorites + purchases (the denormalised counter).
    Ties are broken by movie id in the same direction, so paging is stable.
    """

    NAME = "name"
    YEAR = "year"
    IMDB = "imdb"
    VOTES = "votes"
    PRICE = "price"
    POPULARITY = "popularity"
    CREATED = "created"
    NAME_DESC = "-name"
    YEAR_DESC = "-year"
    IMDB_DESC = "-imdb"
    VOTES_DESC = "-votes"
    PRICE_DESC = "-price"
    POPULARITY_DESC = "-popularity"
    CREATED_DESC = "-created"


class ListScope(enum.StrEnum):
    """Which of one user's movies a list covers (without one, a list covers the catalog)."""

    FAVORITES = "favorites"
    PURCHASES = "purchases"


Year = Annotated[int, Field(ge=YEAR_MIN, le=YEAR_MAX)]
Runtime = Annotated[int, Field(gt=0, le=TIME_MAX, description="Runtime in minutes.")]
Imdb = Annotated[float, Field(ge=0, le=10, allow_inf_nan=False, description="IMDb rating 0..10.")]
Votes = Annotated[int, Field(ge=0, le=VOTES_MAX)]
MetaScore = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Price = Annotated[
    Decimal,
    Field(ge=0, le=PRICE_MAX, max_digits=10, decimal_places=2, allow_inf_nan=False, description="e.g. 9.99"),
]
Gross = Annotated[Decimal, Field(ge=0, le=GROSS_MAX, max_digits=16, decimal_places=2, allow_inf_nan=False)]
RentalPrice = Annotated[
    Decimal,
    Field(
        ge=0,
        le=PRICE_MAX,
        max_digits=10,
        decimal_places=2,
        allow_inf_nan=False,
        description="The price of a rental; null: not offered for rent (docs/entitlements.md).",
    ),
]
RentalStartDays = Annotated[
    int, Field(ge=1, le=3650, description="Days a renter has to start watching; null: RENTAL_START_DAYS.")
]
RentalHours = Annotated[
    int, Field(ge=1, le=24 * 365, description="Hours a started rental runs; null: RENTAL_HOURS.")
]
NameList = Annotated[list[Name], Field(max_length=50, description="Names, in order.")]
#: A price bound of a filter: any non-negative amount (rounded to whole cents by the query).
PriceBound = Annotated[Decimal, Field(ge=0, le=PRICE_MAX, allow_inf_nan=False)]
SearchTerm = Annotated[str, StringConstraints(max_length=200), NoControlCharacters()]


class MovieFilters(BaseModel):
    """Filters of `GET /movies` and of every movie list (docs/api.md, "Catalog"): the API's
    query model and what `cinema movies list` builds, so both refuse the same input.

    Every field is optional; set ones are ANDed. `search` matches a substring
    (case-insensitive) of the title, the description, or a star's or director's
    name. Ranges are inclusive; a minimum above its maximum is `InvalidRange`
    (422 `invalid_range`, with the pair in `fields`). `imdb_*` compare at the
    column's precision.
    """

    model_config = ConfigDict(frozen=True)

    search: SearchTerm | None = Field(
        None,
        description="Case-insensitive substring of the title, description, a star's or a director's name",
    )
    year: Year | None = None
    year_from: Year | None = None
    year_to: Year | None = None
    imdb_min: Imdb | None = None
    imdb_max: Imdb | None = None
    price_min: PriceBound | None = None
    price_max: PriceBound | None = None
    genre_id: Id | None = Field(None, description="Only movies with this genre.")
    star_id: Id | None = Field(None, description="Only movies with this star.")
    director_id: Id | None = Field(None, description="Only movies with this director.")
    certification_id: Id | None = Field(None, description="Only movies with this certification.")
    sort: SortKey | None = Field(
        None, description="Field to sort by, `-` prefix for descending; ties by id. Default: id."
    )

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> Self:
        for low, high in RANGES:
            low_value, high_value = getattr(self, low), getattr(self, high)
            if low_value is not None and high_value is not None and low_value > high_value:
                # Raised as it is (not a ValueError): the API and the CLI answer with its code.
                raise InvalidRange(fields=[low, high])
        return self

    def with_entity(self, kind: EntityKind, entity_id: int) -> MovieFilters:
        """A copy restricted to the movies of one genre/star/director/certification."""
        return self.model_copy(update={ENTITY_FILTERS[kind]: entity_id})


#: The (minimum, maximum) filter pairs.
RANGES = (("year_from", "year_to"), ("imdb_min", "imdb_max"), ("price_min", "price_max"))
#: The filter that restricts a list to one entry of each kind.
ENTITY_FILTERS = {
    EntityKind.GENRES: "genre_id",
    EntityKind.STARS: "star_id",
    EntityKind.DIRECTORS: "director_id",
    EntityKind.CERTIFICATIONS: "certification_id",
}


class EntityRef(BaseModel):
    """A genre, star, director or certification as it appears inside a movie."""

    id: int
    name: str


class EntityOut(BaseModel):
    """An entry of `GET /genres` (etc.): the entity and how many movies use it."""

    id: int
    name: str
    movie_count: int


class EntityIn(BaseModel):
    """Body of `POST`/`PATCH /genres` (etc.)."""

    model_config = ConfigDict(extra="forbid")

    name: Name


class MovieListItem(BaseModel):
    """One movie in a list: the card a client shows, with its genres."""

    id: int
    uuid: UUID
    name: str
    year: int
    time: int = Field(description="Runtime in minutes.")
    imdb: float
    votes: int
    meta_score: float | None
    price: Money
    rental_price: Money | None = Field(description="The price of a rental; null: not offered for rent.")
    certification: EntityRef
    genres: list[EntityRef]
    likes: int
    dislikes: int
    average_rating: float | None = Field(description="Mean of the users' 1..10 scores, 2 decimals.")
    ratings_count: int
    comments_count: int
    popularity: int = Field(description="Likes + favorites + purchases.")
    poster_url: str | None = Field(None, description="Public URL of the poster; null when there is none.")


class MovieDetail(MovieListItem):
    """`GET /movies/{id}`. The `my_*`/`is_*` fields are null for an anonymous caller."""

    gross: Money | None
    description: str
    rental_start_days: int | None = Field(
        description="Days a renter has to start watching; null: the store's default (RENTAL_START_DAYS)."
    )
    rental_hours: int | None = Field(
        description="Hours a started rental runs; null: the store's default (RENTAL_HOURS)."
    )
    directors: list[EntityRef]
    stars: list[EntityRef]
    favorites_count: int
    created_at: datetime
    updated_at: datetime
    my_reaction: str | None = Field(None, description="`like`, `dislike` or null.")
    my_rating: int | None = None
    is_favorite: bool | None = None
    is_purchased: bool | None = None
    resume_position_seconds: float | None = Field(
        None, description="Where the signed-in caller stopped watching; null when not started."
    )


class MovieCreate(BaseModel):
    """Body of `POST /movies`. Entities are given by name and created when missing."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="Title.")
    year: Year
    time: Runtime
    imdb: Imdb
    votes: Votes = 0
    meta_score: MetaScore | None = None
    gross: Gross | None = None
    description: Description = ""
    price: Price
    rental_price: RentalPrice | None = None
    rental_start_days: RentalStartDays | None = None
    rental_hours: RentalHours | None = None
    certification: Name = Field(description="Certification name, e.g. PG-13.")
    genres: NameList = Field(default_factory=list)
    directors: NameList = Field(default_factory=list)
    stars: NameList = Field(default_factory=list)


class MovieUpdate(BaseModel):
    """Body of `PATCH /movies/{id}`: any subset; a list given replaces the movie's list."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    year: Year | None = None
    time: Runtime | None = None
    imdb: Imdb | None = None
    votes: Votes | None = None
    meta_score: MetaScore | None = None
    gross: Gross | None = None
    description: Description | None = None
    price: Price | None = None
    rental_price: RentalPrice | None = None
    rental_start_days: RentalStartDays | None = None
    rental_hours: RentalHours | None = None
    certification: Name | None = None
    genres: NameList | None = None
    directors: NameList | None = None
    stars: NameList | None = None


#: The lists of named entities on a movie (by name in the bodies, `{id, name}` in the answers).
MOVIE_LISTS = ("genres", "directors", "stars")
#: A movie's own values, which moderators set through every door: every field of
#: `MovieCreate` but its certification and lists. The writes, the detail query, the
#: admin's form and the CLI's options read them from here (docs/architecture.md,
#: "Adding a field to movies").
MOVIE_SCALARS: tuple[str, ...] = tuple(
    name for name in MovieCreate.model_fields if name != "certification" and name not in MOVIE_LISTS
)


class Rejection(BaseModel):
    """A CSV row the importer refused: its line number (the header is line 1) and why."""

    line: int
    reason: str
    title: str | None = None


class ImportReport(BaseModel):
    """What `cinema movies import` did. `aborted` means `--strict` met a bad row: nothing written."""

    file: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    aborted: bool = False
    seconds: float = 0.0
    rejections: list[Rejection] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.aborted


@dataclass
class ParsedMovie:
    """A valid CSV row, ready to upsert. Names are stripped; lists are de-duplicated in order."""

    line: int
    name: str
    year: int
    time: int
    imdb: float
    votes: int
    meta_score: float | None
    gross: Decimal | None
    description: str
    certification: str
    genres: list[str] = field(default_factory=list)
    directors: list[str] = field(default_factory=list)
    stars: list[str] = field(default_factory=list)
    price: Decimal | None = None
