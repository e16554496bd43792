"""Doors: how the admin's row forms reach the services, table by table (docs/admin.md).

piccolo_admin edits rows with generic create/edit/delete requests. `CinemaCRUD`
(crud.py) parses them into Python values and hands them to the table's door,
which calls the same service function as the API and the CLI, with the
signed-in staff member as the actor. A door never writes a table itself: a
rule lives in its service. What a door does not offer is `Refused` with a
sentence saying how to do it instead.

Values reach a door keyed by column attribute name; foreign keys are ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cinema.accounts import service as accounts
from cinema.accounts.actor import GroupName
from cinema.accounts.tables import UserGroup
from cinema.admin.access import Staff
from cinema.catalog import entities, movies
from cinema.catalog.schemas import MOVIE_SCALARS, EntityIn, EntityKind, MovieCreate, MovieUpdate
from cinema.db import transaction
from cinema.errors import InvalidInput
from cinema.interactions import comments, erasure

Values = Mapping[str, Any]


class Refused(Exception):
    """A write this table's door does not offer (405); `detail` says what to do instead."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Door:
    """Writes of one table. The base door is read-only: every write is `Refused` with `reason`."""

    reason: str = "This table is read-only in the admin."
    #: Columns the admin's forms may set (attribute names); every other column is kept by the system.
    editable: tuple[str, ...] = ()
    #: Extra advice appended to a service error with this `code` (the API's wording names its own knobs).
    hints: Mapping[str, str] = field(default_factory=dict)

    async def create(self, staff: Staff, values: Values) -> int:
        """Add a row from `values` (editable columns only); returns its id."""
        raise Refused(self.reason)

    async def update(self, staff: Staff, row_id: int, changes: Values, row: Values) -> None:
        """Apply `changes` (the editable columns whose value differs from `row`, the current row)."""
        raise Refused(self.reason)

    async def delete(self, staff: Staff, row_id: int, row: Values) -> None:
        raise Refused(self.reason)


async def _group_name(group_id: Any) -> GroupName:
    row = await UserGroup.select(UserGroup.name).where(UserGroup.id == group_id).first().run()
    if row is None:
        raise InvalidInput(f"There is no group {group_id}.", code="unknown_group")
    return GroupName(row["name"])


def _given(value: Any) -> bool:
    return value is not None and value != ""


@dataclass(frozen=True)
class UsersDoor(Door):
    """Accounts, through `cinema.accounts.management` like `cinema users` and `/accounts/users`.

    One save may change several fields: they are applied in one transaction, so
    a refused one (say, deactivating the last ADMIN) leaves the others undone too.
    """

    editable: tuple[str, ...] = ("email", "password", "group", "active")

    async def create(self, staff: Staff, values: Values) -> int:
        if not _given(values.get("email")) or not _given(values.get("password")):
            raise InvalidInput("A new account needs an email and a password.", code="missing_fields")
        group = await _group_name(values["group"]) if _given(values.get("group")) else GroupName.USER
        user = await accounts.create_user(
            staff.actor,
            str(values["email"]),
            str(values["password"]),
            group,
            active=bool(values.get("active")),
        )
        return user.id

    async def update(self, staff: Staff, row_id: int, changes: Values, row: Values) -> None:
        # Hashing a new password inside the transaction holds the write lock a
        # little longer; staff edits are rare enough for all-or-nothing to win.
        async with transaction():
            actor = staff.actor
            if "email" in changes:
                await accounts.set_email(actor, row_id, str(changes["email"] or ""))
            if _given(changes.get("password")):
                await accounts.set_password(actor, row_id, str(changes["password"]))
            if "group" in changes:
                await accounts.set_group(actor, row_id, await _group_name(changes["group"]))
            if "active" in changes:
                if changes["active"] is None:
                    raise InvalidInput("active must be true or false.", code="invalid_input")
                await accounts.set_active(actor, row_id, bool(changes["active"]))

    async def delete(self, staff: Staff, row_id: int, row: Values) -> None:
        await erasure.delete_user(staff.actor, row_id)


async def _certification_name(certification_id: Any) -> str:
    return (await entities.get_entity(EntityKind.CERTIFICATIONS, int(certification_id))).name


@dataclass(frozen=True)
class MoviesDoor(Door):
    """Movies, through `cinema.catalog.movies` (the API's `MovieCreate`/`MovieUpdate` validation).

    The form edits the movie's own values (`MOVIE_SCALARS`) and its certification;
    the genre, star and director lists are the link tables' rows (`LinkDoor`).
    """

    editable: tuple[str, ...] = (*MOVIE_SCALARS, "certification")
    hints: Mapping[str, str] = field(
        default_factory=lambda: {
            "movie_in_carts": "In the admin, use the Delete movie action with 'remove from carts'.",
        }
    )

    async def _body(self, values: Values) -> dict[str, Any]:
        body = {name: values[name] for name in MOVIE_SCALARS if name in values}
        if "certification" in values:
            certification = values["certification"]
            body["certification"] = (
                await _certification_name(certification) if _given(certification) else None
            )
        return body

    async def create(self, staff: Staff, values: Values) -> int:
        body = {name: value for name, value in (await self._body(values)).items() if value is not None}
        created = await movies.create_movie(staff.actor, MovieCreate(**body))
        return created.id

    async def update(self, staff: Staff, row_id: int, changes: Values, row: Values) -> None:
        await movies.update_movie(staff.actor, row_id, MovieUpdate(**await self._body(changes)))

    async def delete(self, staff: Staff, row_id: int, row: Values) -> None:
        await movies.delete_movie(staff.actor, row_id)


@dataclass(frozen=True)
class EntityDoor(Door):
    """Genres, stars, directors, certifications, through `cinema.catalog.entities`."""

    kind: EntityKind = EntityKind.GENRES
    editable: tuple[str, ...] = ("name",)

    async def create(self, staff: Staff, values: Values) -> int:
        created = await entities.create_entity(staff.actor, self.kind, EntityIn(name=values.get("name")).name)
        return created.id

    async def update(self, staff: Staff, row_id: int, changes: Values, row: Values) -> None:
        if "name" in changes:
            await entities.rename_entity(staff.actor, self.kind, row_id, EntityIn(name=changes["name"]).name)

    async def delete(self, staff: Staff, row_id: int, row: Values) -> None:
        await entities.delete_entity(staff.actor, self.kind, row_id)


@dataclass(frozen=True)
class LinkDoor(Door):
    """A movie's genres, stars or directors, one link at a time (`movies.link_entity`/`unlink_entity`)."""

    kind: EntityKind = EntityKind.GENRES
    #: The link table's column pointing at the entity (`genre`, `star`, `director`).
    entity: str = "genre"
    reason: str = "A link cannot be changed: delete it and add the one you want."

    def __post_init__(self) -> None:
        object.__setattr__(self, "editable", ("movie", self.entity))

    async def create(self, staff: Staff, values: Values) -> int:
        if not _given(values.get("movie")) or not _given(values.get(self.entity)):
            raise InvalidInput(f"Choose a movie and a {self.entity}.", code="missing_fields")
        return await movies.link_entity(
            staff.actor, int(values["movie"]), self.kind, int(values[self.entity])
        )

    async def delete(self, staff: Staff, row_id: int, row: Values) -> None:
        await movies.unlink_entity(staff.actor, int(row["movie"]), self.kind, int(row[self.entity]))


@dataclass(frozen=True)
class CommentsDoor(Door):
    """Comments: staff delete one with its replies (`comments.delete_comment` decides who may)."""

    reason: str = (
        "Comments are written by their authors through the API and cannot be edited; "
        "a moderator can delete one (its replies go with it)."
    )

    async def delete(self, staff: Staff, row_id: int, row: Values) -> None:
        await comments.delete_comment(staff.actor, row_id)
