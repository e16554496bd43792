"""Piccolo Admin at `/admin`: staff sign in with their normal account.

One account store (ARCHITECTURE.md): the admin authenticates against the
`users` table (`cinema.accounts.tables.User`, a `BaseUser` whose `login` takes
the email and admits only active MODERATOR and ADMIN accounts) and keeps its
browser sessions in `admin_sessions` (piccolo_api's `SessionsBase`, migration
`cinema_0005_admin_sessions`).

Who sees what (issue 5):
- MODERATOR: manages the catalog (movies and their genre/star/director links,
  genres, stars, directors, certifications) and comments; can view orders and
  payments (and their items), read-only.
- ADMIN: manages every table.

Piccolo Admin has no per-user table permissions of its own: its table list is
the same for everyone and only `superuser` gates the user and session tables.
So this module (1) subclasses `AdminRouter` to filter the table list by the
signed-in person's group, and (2) puts a validator on every table's CRUD
endpoints that re-reads the person's group on each request and answers 403
when the group may not read (GET) or write (POST/PUT/PATCH/DELETE) that table.
The validators are the enforcement; the filtered menu is the convenience.

Accounts created here would bypass the password rules and the bcrypt hash
(piccolo_api calls `BaseUser.create_user`), so creating users in the admin is
refused: use `cinema users create` or the API. Editing a user keeps the
`admin`/`superuser` flags in step with the group and hashes a new password
with the project's rules.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from piccolo.apps.user.tables import BaseUser
from piccolo.table import Table
from piccolo_admin.endpoints import AdminRouter, TableConfig
from piccolo_api.crud.endpoints import OrderBy, PiccoloCRUD
from piccolo_api.crud.hooks import Hook, HookType
from piccolo_api.crud.validators import Validators, apply_validators
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from cinema.accounts import passwords
from cinema.accounts import tables as accounts
from cinema.accounts.tables import AdminSession
from cinema.catalog import movies as movie_rules
from cinema.catalog import schemas as catalog_schemas
from cinema.catalog import tables as catalog
from cinema.clock import utcnow
from cinema.commerce import tables as commerce
from cinema.config import Settings, get_settings
from cinema.errors import ValidationFailed
from cinema.interactions import tables as interactions
from cinema.piccolo_app import TABLES

ADMIN_PATH = "/admin"
SITE_NAME = "Cinema Admin"


class Access(enum.Enum):
    """What a group may do with a table."""

    NONE = 0
    READ = 1
    WRITE = 2


#: Catalog tables: MODERATOR and ADMIN manage them.
MODERATOR_WRITE: tuple[type[Table], ...] = (
    catalog.Movie,
    catalog.Genre,
    catalog.Star,
    catalog.Director,
    catalog.Certification,
    catalog.MovieGenre,
    catalog.MovieStar,
    catalog.MovieDirector,
    interactions.Comment,
)
#: Financial records a MODERATOR may look at but not change.
MODERATOR_READ: tuple[type[Table], ...] = (
    commerce.Order,
    commerce.OrderItem,
    commerce.Payment,
    commerce.PaymentItem,
)

ADMIN_TABLES: tuple[type[Table], ...] = (*TABLES, AdminSession)

_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def access_for(group: str | None, table: type[Table]) -> Access:
    """The access `group` (a `GroupName` value) has to `table`; NONE for USER or unknown."""
    if group == accounts.GroupName.ADMIN.value:
        return Access.WRITE
    if group == accounts.GroupName.MODERATOR.value:
        if table in MODERATOR_WRITE:
            return Access.WRITE
        if table in MODERATOR_READ:
            return Access.READ
    return Access.NONE


async def _group_of(request: Request) -> str | None:
    """The signed-in person's group name, read fresh once per request."""
    cached = request.scope.get("cinema_admin_group")
    if cached is not None:
        return str(cached)
    user = getattr(request.user, "user", None)
    if user is None or not getattr(user, "active", False):
        return None
    row = (
        await accounts.UserGroup.select(accounts.UserGroup.name)
        .where(accounts.UserGroup.id == user.group)
        .first()
        .run()
    )
    group = str(row["name"]) if row else None
    request.scope["cinema_admin_group"] = group or ""
    return group


def _table_guard(table: type[Table]) -> Any:
    async def guard(piccolo_crud: PiccoloCRUD, request: Request) -> None:
        access = access_for(await _group_of(request), table)
        needed = Access.WRITE if request.method.upper() in _WRITE_METHODS else Access.READ
        if access.value < needed.value:
            verb = "change" if needed is Access.WRITE else "view"
            raise HTTPException(status_code=403, detail=f"Your role may not {verb} {table._meta.tablename}.")

    return guard


# --- users: flags follow the group, passwords follow the rules -----------------------------


async def _refuse_user_create(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    raise HTTPException(
        status_code=405,
        detail="Create accounts with `cinema users create` or POST /accounts/register, not in the admin.",
    )


async def _user_pre_patch(row_id: Any, values: dict[Any, Any]) -> dict[str, Any]:
    values = _attribute_keys(values)
    values.pop("admin", None)
    values.pop("superuser", None)
    # `deactivated_at` follows `active` like in the accounts service: staff
    # deactivation sets it (so an activation email cannot undo it), staff
    # activation clears it. Only a real change of `active` touches it (the edit
    # form posts every field back); the form never writes it directly.
    values.pop("deactivated_at", None)
    if "active" in values:
        current = (
            await accounts.User.select(accounts.User.active.as_alias("active"))
            .where(accounts.User.id == row_id)
            .first()
            .run()
        )
        if current is not None and bool(values["active"]) != bool(current["active"]):
            values["deactivated_at"] = None if values["active"] else utcnow()
    if values.get("email"):
        values["email"] = accounts.User.normalize_email(str(values["email"]))
        values["username"] = values["email"]
    group_id = values.get("group")
    if group_id is not None:
        row = (
            await accounts.UserGroup.select(accounts.UserGroup.name)
            .where(accounts.UserGroup.id == group_id)
            .first()
            .run()
        )
        if row is None:
            raise HTTPException(status_code=400, detail="Unknown group.")
        group = accounts.GroupName(row["name"])
        values["admin"] = group is not accounts.GroupName.USER
        values["superuser"] = group is accounts.GroupName.ADMIN
    password = values.get("password")
    if password:
        try:
            passwords.validate(str(password))
        except ValidationFailed as exc:
            raise HTTPException(status_code=400, detail=exc.detail) from None
    return values


# --- catalog: the API's rules, applied to the admin's edit forms ---------------------------

#: Per column, the type the API validates it with (cinema.catalog.schemas), so the
#: admin cannot store what `POST /movies` would refuse (a price of -5, year 99999...).
_MOVIE_RULES: dict[str, TypeAdapter[Any]] = {
    "name": TypeAdapter(catalog_schemas.Name),
    "year": TypeAdapter(catalog_schemas.Year),
    "time": TypeAdapter(catalog_schemas.Runtime),
    "imdb": TypeAdapter(catalog_schemas.Imdb),
    "votes": TypeAdapter(catalog_schemas.Votes),
    "meta_score": TypeAdapter(catalog_schemas.MetaScore | None),
    "gross": TypeAdapter(catalog_schemas.Gross | None),
    "description": TypeAdapter(catalog_schemas.Description),
    "price": TypeAdapter(catalog_schemas.Price),
}
_NAME_RULES: dict[str, TypeAdapter[Any]] = {"name": TypeAdapter(catalog_schemas.Name)}


def _checked(rules: dict[str, TypeAdapter[Any]], values: dict[str, Any]) -> dict[str, Any]:
    """`values` with the ruled fields validated (and normalised, e.g. trimmed names).

    Raises `HTTPException` 400 naming the field and the rule it breaks.
    """
    out = dict(values)
    for field, adapter in rules.items():
        if field not in out:
            continue
        try:
            out[field] = adapter.validate_python(out[field])
            if field == "price":
                movie_rules.check_price(out[field])
        except ValidationError as exc:
            reason = "; ".join(error["msg"] for error in exc.errors())
            raise HTTPException(status_code=400, detail=f"{field}: {reason}") from None
        except ValidationFailed as exc:
            raise HTTPException(status_code=400, detail=f"{field}: {exc.detail}") from None
    return out


def _validated_by(rules: dict[str, TypeAdapter[Any]]) -> list[Hook]:
    """Hooks refusing admin creates and edits that break `rules` (400 with the reason)."""

    async def check_patch(row_id: Any, values: dict[Any, Any]) -> dict[str, Any]:
        return _checked(rules, _attribute_keys(values))

    async def check_save(row: Table) -> Table:
        present = {field: getattr(row, field) for field in rules if hasattr(row, field)}
        for field, value in _checked(rules, present).items():
            setattr(row, field, value)
        return row

    return [
        Hook(hook_type=HookType.pre_patch, callable=check_patch),
        Hook(hook_type=HookType.pre_save, callable=check_save),
    ]


def _attribute_keys(values: dict[Any, Any]) -> dict[str, Any]:
    """piccolo_api keys PATCH values by Column; key them by attribute name instead."""
    return {getattr(getattr(k, "_meta", None), "name", k): v for k, v in values.items()}


def _keep_server_columns(*columns: Any) -> list[Hook]:
    """Hooks that stop the admin's edit forms from writing columns the services maintain.

    The edit form posts every field back, so without this a save would put
    back counters (likes, popularity, ...) as they were when the form opened.
    """
    names = {column._meta.name for column in columns}

    async def drop_on_patch(row_id: Any, values: dict[Any, Any]) -> dict[str, Any]:
        return {k: v for k, v in _attribute_keys(values).items() if k not in names}

    async def reset_on_create(row: Table) -> Table:
        for column in columns:
            default = column._meta.params.get("default")
            if column._meta.name not in ("created_at", "updated_at", "uuid") and default is not None:
                setattr(row, column._meta.name, default)
        return row

    return [
        Hook(hook_type=HookType.pre_patch, callable=drop_on_patch),
        Hook(hook_type=HookType.pre_save, callable=reset_on_create),
    ]


def _config(
    table: type[Table],
    *,
    menu_group: str,
    visible: Iterable[Any] | None = None,
    exclude: Iterable[Any] | None = None,
    order_by: list[OrderBy] | None = None,
    validators: Validators | None = None,
    hooks: list[Hook] | None = None,
) -> TableConfig:
    guard = _table_guard(table)
    validators = validators or Validators()
    validators.every = [guard, *validators.every]
    return TableConfig(
        table_class=table,
        menu_group=menu_group,
        visible_columns=list(visible) if visible else None,
        exclude_visible_columns=list(exclude) if exclude else None,
        order_by=order_by,
        validators=validators,
        # piccolo_api groups hooks with itertools.groupby: hooks of one type must be adjacent.
        hooks=sorted(hooks, key=lambda hook: hook.hook_type.value) if hooks else None,
    )


def table_configs() -> list[TableConfig]:
    """Every table, grouped in the menu, with readable list columns."""
    Movie, Comment = catalog.Movie, interactions.Comment
    Order, Payment, User = commerce.Order, commerce.Payment, accounts.User
    special: dict[type[Table], TableConfig] = {
        Movie: _config(
            Movie,
            menu_group="Catalog",
            visible=[
                Movie.id,
                Movie.name,
                Movie.year,
                Movie.price,
                Movie.imdb,
                Movie.votes,
                Movie.certification,
                Movie.popularity,
                Movie.created_at,
            ],
            order_by=[OrderBy(Movie.name)],
            hooks=_keep_server_columns(
                Movie.uuid,
                Movie.created_at,
                Movie.updated_at,
                Movie.likes,
                Movie.dislikes,
                Movie.favorites_count,
                Movie.purchases_count,
                Movie.ratings_count,
                Movie.ratings_sum,
                Movie.comments_count,
                Movie.popularity,
            )
            + _validated_by(_MOVIE_RULES),
        ),
        **{
            table: _config(table, menu_group="Catalog", hooks=_validated_by(_NAME_RULES))
            for table in (catalog.Genre, catalog.Star, catalog.Director, catalog.Certification)
        },
        Comment: _config(
            Comment,
            menu_group="Catalog",
            visible=[
                Comment.id,
                Comment.movie,
                Comment.user,
                Comment.text,
                Comment.parent,
                Comment.created_at,
            ],
            order_by=[OrderBy(Comment.created_at, ascending=False)],
            hooks=_keep_server_columns(Comment.created_at, Comment.replies_count, Comment.likes),
        ),
        Order: _config(
            Order,
            menu_group="Commerce",
            order_by=[OrderBy(Order.created_at, ascending=False)],
        ),
        Payment: _config(
            Payment,
            menu_group="Commerce",
            exclude=[Payment.client_secret],
            order_by=[OrderBy(Payment.created_at, ascending=False)],
        ),
        User: _config(
            User,
            menu_group="Accounts",
            visible=[User.id, User.email, User.group, User.active, User.created_at, User.last_login],
            order_by=[OrderBy(User.email)],
            validators=Validators(post_single=[_refuse_user_create]),
            hooks=[Hook(hook_type=HookType.pre_patch, callable=_user_pre_patch)],
        ),
    }
    groups = {
        "Catalog": (*MODERATOR_WRITE,),
        "Commerce": (
            commerce.Order,
            commerce.OrderItem,
            commerce.Payment,
            commerce.PaymentItem,
            commerce.Purchase,
            commerce.RefundRequest,
            commerce.PaymentEvent,
            commerce.Cart,
            commerce.CartItem,
        ),
    }

    def menu_of(table: type[Table]) -> str:
        for name, members in groups.items():
            if table in members:
                return name
        if table in (
            interactions.Reaction,
            interactions.Rating,
            interactions.CommentLike,
            interactions.Favorite,
            interactions.Notification,
        ):
            return "Community"
        return "Accounts"

    return [special.get(table) or _config(table, menu_group=menu_of(table)) for table in ADMIN_TABLES]


class AliasAwareCRUD(PiccoloCRUD):
    """`PiccoloCRUD` that can PATCH columns whose database name differs from the attribute.

    piccolo_api 1.11 names such columns by their database name in its pydantic
    models (`certification_id`, `group_id`, `is_active`, `hashed_password`) but
    by attribute name in the rows it returns, and builds the UPDATE with
    `getattr(table, key)`, which only knows the attribute name. The admin UI
    then failed to render those tables ("Cannot read properties of undefined")
    and to save their edit forms ("Unrecognised keys"). Here the form schema
    uses attribute names like the rows, PATCH accepts either name, and
    `_clean_data` hands the pydantic model the database names it expects.
    """

    def _aliases(self) -> dict[str, str]:
        return {
            column._meta.name: column._meta.db_column_name
            for column in self.table._meta.columns
            if column._meta.db_column_name != column._meta.name
        }

    def _clean_data(self, data: dict[str, Any]) -> dict[str, Any]:
        aliases = self._aliases()
        cleaned = super()._clean_data(data)
        return {aliases.get(key, key): value for key, value in cleaned.items()}

    @apply_validators  # type: ignore[untyped-decorator]
    async def get_schema(self, request: Request) -> JSONResponse:
        """The form schema keyed by attribute name, like the rows the same API returns."""
        return JSONResponse(self.pydantic_model.model_json_schema(by_alias=False))

    async def patch_single(self, request: Request, row_id: Any, data: dict[str, Any]) -> Any:
        names = {alias: name for name, alias in self._aliases().items()}
        return await super().patch_single(request, row_id, {names.get(k, k): v for k, v in data.items()})


class CinemaAdminRouter(AdminRouter):
    """`AdminRouter` whose table menu shows each person only the tables their group may open."""

    def __init__(self, *tables: Any, **kwargs: Any) -> None:
        # AdminRouter builds its PiccoloCRUD instances inline; use the alias-aware one.
        import piccolo_admin.endpoints as admin_endpoints

        namespace = vars(admin_endpoints)
        original = namespace["PiccoloCRUD"]
        namespace["PiccoloCRUD"] = AliasAwareCRUD
        try:
            super().__init__(*tables, **kwargs)
        finally:
            namespace["PiccoloCRUD"] = original

    def _allowed_names(self, group: str | None) -> set[str]:
        return {
            config.table_class._meta.tablename
            for config in self.table_configs
            if access_for(group, config.table_class) is not Access.NONE
        }

    async def get_table_list(self, request: Request) -> list[str]:  # type: ignore[override]
        allowed = self._allowed_names(await _group_of(request))
        return [name for name in super().get_table_list() if name in allowed]

    async def get_table_list_grouped(self, request: Request) -> Any:  # type: ignore[override]
        allowed = self._allowed_names(await _group_of(request))
        grouped = super().get_table_list_grouped()
        grouped.grouped = {
            name: [t for t in tables if t in allowed]
            for name, tables in grouped.grouped.items()
            if any(t in allowed for t in tables)
        }
        grouped.ungrouped = [t for t in grouped.ungrouped if t in allowed]
        return grouped


def create_admin_app(settings: Settings | None = None) -> AdminRouter:
    """The Piccolo Admin ASGI app, to mount at `ADMIN_PATH`."""
    settings = settings or get_settings()
    public = urlsplit(settings.public_base_url)
    auth_table: type[BaseUser] = accounts.User
    return CinemaAdminRouter(
        *table_configs(),
        auth_table=auth_table,
        session_table=AdminSession,
        site_name=SITE_NAME,
        production=settings.environment == "production" or public.scheme == "https",
        allowed_hosts=[public.hostname] if public.hostname else [],
        default_language_code="en",
        page_size=25,
    )
