"""The admin's table API: piccolo_api's `PiccoloCRUD`, with reads filtered and writes sent to doors.

piccolo_admin serves every table through `PiccoloCRUD` (`/admin/api/tables/<table>/...`).
`CinemaCRUD` keeps its read side (lists, filters, sorting, the form schema)
and changes four things (docs/admin.md):

- Role: every request checks the signed-in person's role for the table
  (403 with a sentence), before anything else, even whether a row exists.
- Secrets: a table's hidden columns (password hashes, token hashes, client
  secrets) are never read, whatever `__visible_fields`, filters, `__order` or
  `__readable` ask for; joins (`order.user.password`) are refused as well.
- Names: filters and writes use the attribute names the schema shows
  (`group`, `active`), also for columns whose database name differs
  (`group_id`, `is_active`); piccolo_api only understood the database names.
- Writes: POST/PATCH/DELETE are parsed here and handed to the table's door
  (doors.py), which calls the services. PUT (replace a whole row) is refused.

The admin's edit form posts every column back, including the ones the system
keeps (counters, `username`, ...). Those must come back unchanged; times the
system stamps (`created_at`, `updated_at`, ...) are ignored, because the form
echoes them as they were when it opened. Errors reach the UI in the shapes it
displays: a refusal from a service is 422 `{"custom_form_error", "code"}`, bad
values 422 `{"detail": [{"loc", "msg"}]}`, a write the door does not offer 405
`{"detail"}`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

import pydantic
from piccolo.columns import UUID, Column, Date, Timestamp, Timestamptz
from piccolo.columns.defaults.base import Default
from piccolo.table import Table
from piccolo.utils.pydantic import create_pydantic_model
from piccolo_api.crud.endpoints import OrderBy, ParamException, Params, PiccoloCRUD
from piccolo_api.crud.exceptions import MalformedQuery
from piccolo_api.crud.validators import Validators, apply_validators
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cinema.accounts.actor import GroupName
from cinema.admin.access import Access, Staff, staff_of
from cinema.admin.doors import Door, Refused
from cinema.errors import CinemaError

_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_BY_NAME = pydantic.ConfigDict(populate_by_name=True)


@dataclass(frozen=True)
class TableSpec:
    """How the admin shows one table and who may do what with it."""

    table: type[Table]
    menu: str
    #: What a MODERATOR may do (an ADMIN may always look, and write through the door).
    moderator: Access = Access.NONE
    door: Door = field(default_factory=Door)
    #: Columns never sent to any browser (attribute names); `secret=True` columns are added.
    hidden: tuple[str, ...] = ()
    #: Columns of the list view (all served columns when empty).
    listed: tuple[str, ...] = ()
    order_by: tuple[OrderBy, ...] = ()

    @property
    def name(self) -> str:
        return str(self.table._meta.tablename)

    def access(self, staff: Staff | None) -> Access:
        if staff is None:
            return Access.NONE
        if staff.group is GroupName.ADMIN:
            return Access.WRITE
        if staff.group is GroupName.MODERATOR:
            return self.moderator
        return Access.NONE

    def hidden_names(self) -> frozenset[str]:
        secret = {c._meta.name for c in self.table._meta.columns if c._meta.secret}
        return frozenset(self.hidden) | secret


def _is_generated(column: Column) -> bool:
    """A value the system generates (a time it stamps, a uuid): ignored when a form echoes it.

    The forms show these as they were when they opened (`/new/` offers "now" and
    a random uuid), so they cannot be told apart from an edit, and mean nothing as one.
    """
    return isinstance(column, Timestamptz | Timestamp | Date | UUID)


def _same(posted: Any, current: Any) -> bool:
    """Whether a posted value (parsed by the table's pydantic model) equals the stored one.

    An empty form field is both "" and null (piccolo_admin posts "" for an empty
    non-nullable field), so the two are the same here.
    """
    if posted in ("", None) and current in ("", None):
        return True
    if isinstance(posted, float) and isinstance(current, float):
        # REAL columns come back from PostgreSQL as float4 widened to float8.
        return math.isclose(posted, current, rel_tol=1e-6)
    if isinstance(posted, datetime) and isinstance(current, datetime):
        return _utc(posted).replace(microsecond=0) == _utc(current).replace(microsecond=0)
    return bool(posted == current)


def _default(column: Column) -> Any:
    """The value a new row gets for `column` (piccolo's `Default` objects evaluated)."""
    value = column.get_default_value()
    return value.python() if isinstance(value, Default) else value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


class _Invalid(Exception):
    """Values that do not fit the table's columns: 422 in pydantic's shape, which the UI lists by field."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _field_errors(exc: pydantic.ValidationError) -> list[dict[str, Any]]:
    # `input` is left out: it would echo what was sent (a password, a huge text).
    return [{"loc": list(e["loc"]) or ["__root__"], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]


class CinemaCRUD(PiccoloCRUD):
    """`PiccoloCRUD` for one admin table: role checks, hidden columns, attribute names, doors."""

    def __init__(self, spec: TableSpec, *, table: type[Table], **kwargs: Any) -> None:
        self.spec = spec
        self.door = spec.door
        self.hidden = spec.hidden_names()
        validators: Validators = kwargs.pop("validators", None) or Validators()
        validators.every = [_role_guard, *validators.every]
        kwargs.pop("max_joins", None)
        kwargs.pop("exclude_secrets", None)
        super().__init__(table=table, validators=validators, exclude_secrets=True, max_joins=0, **kwargs)
        served = tuple(c._meta.name for c in self.served_columns)
        self.visible_fields_options = served
        extra = self.schema_extra
        extra["visible_fields_options"] = served
        for key in ("visible_column_names", "visible_filter_names"):
            if key in extra:
                extra[key] = tuple(n for n in extra[key] if n not in self.hidden)

    # --- columns -----------------------------------------------------------------------------

    @cached_property
    def served_columns(self) -> list[Column]:
        """Every column a browser may read."""
        return [c for c in self.table._meta.columns if c._meta.name not in self.hidden]

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        """Columns by attribute name and by database name."""
        found: dict[str, Column] = {}
        for column in self.table._meta.columns:
            found[column._meta.name] = column
            found.setdefault(column._meta.db_column_name, column)
        return found

    @cached_property
    def _unwritable(self) -> tuple[Column, ...]:
        """Hidden columns no form may set (a hidden editable column, the password, stays write-only)."""
        return tuple(
            c
            for c in self.table._meta.columns
            if c._meta.name in self.hidden and c._meta.name not in self.door.editable
        )

    def _get_column(self, column_name: str) -> Column:
        """A column named in `__visible_fields` or `__order`: served columns only, no joins."""
        column = self._by_name.get(column_name)
        if column is None or column._meta.name in self.hidden:
            raise ValueError(f"{column_name!r} is not a column of {self.spec.name} you can use here.")
        return column

    def _split_params(self, params: dict[str, Any]) -> Params:
        try:
            split = super()._split_params(params)
        except ValueError as exc:  # a bad `__order` column (piccolo_api lets it through as a 500)
            raise ParamException(str(exc)) from None
        if split.visible_fields is None:
            split.visible_fields = list(self.served_columns)
        split.fields = {self._attribute(key): value for key, value in split.fields.items()}
        split.operators = _rekeyed(split.operators, self._attribute)
        split.match_types = _rekeyed(split.match_types, self._attribute)
        return split

    def _apply_filters(self, query: Any, params: Params) -> Any:
        try:
            return super()._apply_filters(query, params)
        except pydantic.ValidationError as exc:  # `?year=abc`: piccolo_api let it through as a 500
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise MalformedQuery(f"Bad filter value ({problems}).") from None

    def _attribute(self, key: str) -> str:
        column = self._by_name.get(key)
        return column._meta.name if column is not None else key

    # --- pydantic models (piccolo_api builds one per call; built once here) --------------------

    def _model(self, suffix: str, *, exclude: Iterable[Column], **kwargs: Any) -> type[pydantic.BaseModel]:
        return create_pydantic_model(
            self.table,
            model_name=f"{self.table.__name__}{suffix}",
            exclude_columns=tuple(exclude),
            pydantic_config=_BY_NAME,
            **kwargs,
        )

    @cached_property
    def pydantic_model(self) -> type[pydantic.BaseModel]:
        """The form schema (and POST body): every column but the id and the unwritable hidden ones."""
        return self._model(
            "In",
            exclude=(self.table._meta.primary_key, *self._unwritable),
            json_schema_extra={"extra": self.schema_extra},
        )

    @cached_property
    def pydantic_model_optional(self) -> type[pydantic.BaseModel]:
        return self._model(
            "Optional", exclude=self._unwritable, include_default_columns=True, all_optional=True
        )

    @cached_property
    def pydantic_model_filters(self) -> type[pydantic.BaseModel]:
        hidden = [c for c in self.table._meta.columns if c._meta.name in self.hidden]
        return self._model("Filters", exclude=hidden, include_default_columns=True, all_optional=True)

    def _pydantic_model_output(
        self,
        include_readable: bool = False,
        include_columns: tuple[Column, ...] = (),
        nested: Any = False,
    ) -> type[pydantic.BaseModel]:
        return super()._pydantic_model_output(
            include_readable=include_readable,
            include_columns=include_columns or tuple(self.served_columns),
            nested=nested,
        )

    def pydantic_model_plural(
        self,
        include_readable: bool = False,
        include_columns: tuple[Column, ...] = (),
        nested: Any = False,
    ) -> type[pydantic.BaseModel]:
        return super().pydantic_model_plural(
            include_readable=include_readable,
            include_columns=include_columns or tuple(self.served_columns),
            nested=nested,
        )

    @apply_validators  # type: ignore[untyped-decorator]
    async def get_schema(self, request: Request) -> JSONResponse:
        """The form schema keyed by attribute name, like the rows the same API returns.

        The forms show every column; those the system keeps say so in their tooltip.
        """
        schema = self.pydantic_model.model_json_schema(by_alias=False)
        if self.door.editable:
            for name, prop in schema.get("properties", {}).items():
                if name not in self.door.editable and isinstance(prop.get("extra"), dict):
                    prop["extra"]["help_text"] = "Kept by the system: leave it as it is."
        return JSONResponse(schema)

    @apply_validators  # type: ignore[untyped-decorator]
    async def get_new(self, request: Request) -> Response:
        """Defaults for the "add row" form (never a hidden column)."""
        values = {
            column._meta.name: _default(column)
            for column in self.served_columns
            if column is not self.table._meta.primary_key
        }
        return JSONResponse(_jsonable(values))

    # --- requests ----------------------------------------------------------------------------

    async def detail(self, request: Request) -> Response:
        """Check the role before piccolo_api looks the row up (no probing rows of forbidden tables)."""
        await _role_guard(self, request)
        if request.method == "PUT":
            return JSONResponse(
                {"detail": "Rows are changed field by field (PATCH) in the admin, not replaced."},
                status_code=405,
            )
        return await super().detail(request)

    async def _writer(self, request: Request) -> Staff:
        staff = await staff_of(request)
        assert staff is not None  # `_role_guard` ran
        return staff

    @apply_validators  # type: ignore[untyped-decorator]
    async def post_single(self, request: Request, data: dict[str, Any]) -> Response:
        staff = await self._writer(request)
        try:
            values = self._values(data, current=None)
            row_id = await self.door.create(staff, values)
        except Exception as exc:
            return self._refusal(exc)
        return JSONResponse([{"id": row_id}], status_code=201)

    @apply_validators  # type: ignore[untyped-decorator]
    async def patch_single(self, request: Request, row_id: Any, data: dict[str, Any]) -> Response:
        staff = await self._writer(request)
        try:
            current = await self._row(row_id)
            changes = self._values(data, current=current)
            if changes:
                await self.door.update(staff, int(row_id), changes, current)
            updated = await self._row(row_id)
        except Exception as exc:
            return self._refusal(exc)
        return JSONResponse(_jsonable(updated))

    @apply_validators  # type: ignore[untyped-decorator]
    async def delete_single(self, request: Request, row_id: Any) -> Response:
        staff = await self._writer(request)
        try:
            await self.door.delete(staff, int(row_id), await self._row(row_id))
        except Exception as exc:
            return self._refusal(exc)
        return Response(status_code=204)

    async def put_single(self, request: Request, row_id: Any, data: dict[str, Any]) -> Response:
        raise HTTPException(status_code=405, detail="Rows are not replaced in the admin.")

    async def delete_all(self, request: Request, params: dict[str, Any] | None = None) -> Response:
        raise HTTPException(status_code=405, detail="Rows are deleted one by one in the admin.")

    # --- write helpers -----------------------------------------------------------------------

    async def _row(self, row_id: Any) -> dict[str, Any]:
        """The current row's served columns, keyed by attribute name."""
        pk = self.table._meta.primary_key
        row = await self.table.select(*self.served_columns).where(pk == row_id).first().run()
        if row is None:
            raise HTTPException(status_code=404, detail="The row no longer exists.")
        return {c._meta.name: row[c._meta.db_column_name] for c in self.served_columns}

    def _values(self, data: dict[str, Any], *, current: dict[str, Any] | None) -> dict[str, Any]:
        """The editable values of a POST (`current` None) or the changed ones of a PATCH.

        Refuses unknown keys, and system-kept columns that do not come back unchanged.
        """
        if not self.door.editable:
            raise Refused(self.door.reason)
        by_name: dict[str, Any] = {}
        unknown: list[str] = []
        for key, value in data.items():
            column = self._by_name.get(key)
            if column is None or any(column is c for c in self._unwritable):
                unknown.append(key)
            else:
                by_name[column._meta.name] = value
        if unknown:
            raise _Invalid(
                [{"loc": [key], "msg": "is not a column you can set", "type": "unknown"} for key in unknown]
            )
        try:
            parsed = self.pydantic_model_optional.model_validate(by_name)
        except pydantic.ValidationError as exc:
            raise _Invalid(_field_errors(exc)) from None
        values: dict[str, Any] = {}
        kept: list[str] = []
        for name in by_name:
            column = self._by_name[name]
            value = getattr(parsed, name)
            if name in self.door.editable:
                if current is None or name in self.hidden or not _same(value, current.get(name)):
                    values[name] = value
            elif column is self.table._meta.primary_key:
                if value not in (None, "") and (current is None or not _same(value, current[name])):
                    kept.append(name)
            elif _is_generated(column):
                continue
            elif current is None:
                if value not in (None, "") and not _same(value, _default(column)):
                    kept.append(name)
            elif not _same(value, current.get(name)):
                kept.append(name)
        if kept:
            raise _Invalid(
                [
                    {
                        "loc": [name],
                        "msg": "is kept by the system and cannot be set here "
                        "(reload the page if the row changed meanwhile)",
                        "type": "read_only",
                    }
                    for name in kept
                ]
            )
        return values

    def _refusal(self, exc: Exception) -> Response:
        """The UI-displayable answer for a refused write (see the module docstring)."""
        if isinstance(exc, Refused):
            return JSONResponse({"detail": exc.detail}, status_code=405)
        if isinstance(exc, _Invalid):
            return JSONResponse({"detail": exc.errors, "code": "validation_error"}, status_code=422)
        if isinstance(exc, pydantic.ValidationError):
            return JSONResponse({"detail": _field_errors(exc), "code": "validation_error"}, status_code=422)
        if isinstance(exc, CinemaError):
            message = exc.detail
            hint = self.door.hints.get(exc.code)
            if hint:
                message = f"{message} {hint}"
            return JSONResponse(
                {"custom_form_error": message, "code": exc.code, "status": exc.status_code},
                status_code=422,
            )
        raise exc


def _rekeyed(mapping: Any, key: Any) -> Any:
    """A copy of a piccolo_api params mapping (a defaultdict) with its keys renamed."""
    copied = mapping.copy()
    copied.clear()
    for name, value in mapping.items():
        copied[key(name)] = value
    return copied


def _jsonable(values: dict[str, Any]) -> Any:
    return json.loads(json.dumps(values, default=_json_default))


async def _role_guard(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    """403 unless the signed-in person's role may read (GET) or write this table."""
    assert isinstance(piccolo_crud, CinemaCRUD)
    access = piccolo_crud.spec.access(await staff_of(request))
    needed = Access.WRITE if request.method.upper() in _WRITES else Access.READ
    if access < needed:
        verb = "change" if needed is Access.WRITE else "view"
        raise HTTPException(status_code=403, detail=f"Your role may not {verb} {piccolo_crud.spec.name}.")
