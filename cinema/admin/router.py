"""`CinemaAdminRouter`: piccolo_admin's `AdminRouter` with the project's tables, roles and doors.

On top of `AdminRouter` (docs/admin.md):
- every table is served by `CinemaCRUD` (crud.py), built from its `TableSpec`;
- the table menu and the forms list show each person only what their role may use;
- actions (forms) are refused (403) to lower roles, and a service's refusal
  reaches the form as its message (422 `custom_form_error`, with the `code`);
- the change-password page goes through `recovery.change_password` (the
  password rules, the sign-in limits, the sessions ending, the email);
- the sign-in form asks for an "Email" (the English translation's "Username");
- a small script (static/cinema-admin.js) shows the sentence of a 403, which
  the prebuilt frontend would swallow, leaving a blank page;
- staff upload a movie's poster or trailer on a page of their own
  (`/admin/media-upload/`, media.py), linked from the sidebar.
"""

from __future__ import annotations

import inspect
import json
from json import JSONDecodeError
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import piccolo_admin.endpoints as admin_endpoints
from piccolo_admin.endpoints import (
    AdminRouter,
    FormConfig,
    FormConfigResponseModel,
    GroupedFormsResponseModel,
    GroupedTableNamesResponseModel,
    TableConfig,
)
from piccolo_admin.translations.data import ENGLISH
from piccolo_admin.translations.models import Translation
from piccolo_api.crud.validators import Validators
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from cinema.accounts import recovery
from cinema.admin import media
from cinema.admin.access import Access, require_staff, staff_of
from cinema.admin.actions import Action
from cinema.admin.crud import CinemaCRUD, TableSpec
from cinema.errors import CinemaError

SCRIPT = Path(__file__).with_name("static") / "cinema-admin.js"

#: English, whose sign-in form asks for the email (piccolo_admin's label is "Username").
#: The only language offered: the product's messages and emails are in English.
ENGLISH_EMAIL = Translation(
    language_name=ENGLISH.language_name,
    language_code=ENGLISH.language_code,
    translations={**ENGLISH.translations, "Username": "Email"},
)


def _table_config(spec: TableSpec) -> TableConfig:
    served = [c for c in spec.table._meta.columns if c._meta.name not in spec.hidden_names()]
    listed = [spec.table._meta.get_column_by_name(name) for name in spec.listed] if spec.listed else served
    return TableConfig(
        table_class=spec.table,
        menu_group=spec.menu,
        visible_columns=listed,
        visible_filters=served,
        order_by=list(spec.order_by) or None,
        validators=Validators(),
    )


#: What the drivers raise for a value a column or clause cannot take (asyncpg's DataError
#: covers both its client-side encoding errors and SQLSTATE class 22).
_OUT_OF_RANGE: tuple[type[Exception], ...] = (OverflowError, asyncpg.exceptions.DataError)


async def _out_of_range(request: Request, exc: Exception) -> Response:
    reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
    return JSONResponse(
        {"detail": f"A value is out of range: {reason}", "code": "out_of_range"}, status_code=400
    )


class CinemaAdminRouter(AdminRouter):
    """`AdminRouter` for the project's `TableSpec`s and `Action`s."""

    def __init__(self, specs: list[TableSpec], actions: list[Action], **kwargs: Any) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.actions = {action.slug: action for action in actions}
        by_table = {spec.table: spec for spec in specs}
        forms: list[FormConfig] = list(actions)

        def crud(*, table: Any, **options: Any) -> CinemaCRUD:
            return CinemaCRUD(by_table[table], table=table, **options)

        # AdminRouter builds its PiccoloCRUD instances inline, from its module's name.
        namespace = vars(admin_endpoints)
        original = namespace["PiccoloCRUD"]
        namespace["PiccoloCRUD"] = crud
        try:
            super().__init__(
                *[_table_config(spec) for spec in specs],
                forms=forms,
                translations=[ENGLISH_EMAIL],
                default_language_code=ENGLISH_EMAIL.language_code,
                **kwargs,
            )
        finally:
            namespace["PiccoloCRUD"] = original
        self._private_app().router.routes = [
            Route("/change-password/", self.change_password, methods=["POST"])
            if getattr(route, "path", None) == "/change-password/"
            else route
            for route in self._private_app().router.routes
        ]
        # A number past what a column holds (an id, a filter, a page size or a foreign
        # key beyond PostgreSQL's int4 or SQLite's int64) fails in the driver: that is
        # the caller's bad input, a 400 like every door answers it, never a 500.
        for kind in _OUT_OF_RANGE:
            self._private_app().add_exception_handler(kind, _out_of_range)
        self.template = self.template.replace(
            "</head>", '  <script src="./cinema-admin.js" defer></script>\n</head>', 1
        )
        self.router.add_route("/cinema-admin.js", self.get_script, methods=["GET"])
        # Staff upload posters and trailers on a page of their own (media.py): the page is
        # static, its POST goes through `/api` (the session) and the CSRF check.
        self.router.add_route("/media-upload/", media.page, methods=["GET"])
        self.router.add_route("/media-upload.js", media.page_script, methods=["GET"])
        self._private_app().add_route("/media-upload/", media.upload, methods=["POST"])

    def _private_app(self) -> Any:
        """The FastAPI app behind `/api` (the one with the tables and forms)."""
        for route in self.router.routes:
            if isinstance(route, Mount) and route.path == "/api":
                app = route.app
                return app.app if isinstance(app, AuthenticationMiddleware) else app
        raise RuntimeError("AdminRouter has no /api mount")

    async def get_script(self, request: Request) -> Response:
        return Response(SCRIPT.read_text(), media_type="text/javascript")

    # --- tables --------------------------------------------------------------------------------

    async def _allowed_tables(self, request: Request) -> set[str]:
        staff = await staff_of(request)
        return {name for name, spec in self.specs.items() if spec.access(staff) is not Access.NONE}

    async def get_table_list(self, request: Request) -> list[str]:  # type: ignore[override]
        allowed = await self._allowed_tables(request)
        return [name for name in super().get_table_list() if name in allowed]

    async def get_table_list_grouped(self, request: Request) -> GroupedTableNamesResponseModel:  # type: ignore[override]
        allowed = await self._allowed_tables(request)
        grouped = super().get_table_list_grouped()
        grouped.grouped = {
            name: [t for t in tables if t in allowed]
            for name, tables in grouped.grouped.items()
            if any(t in allowed for t in tables)
        }
        grouped.ungrouped = [t for t in grouped.ungrouped if t in allowed]
        return grouped

    # --- actions (piccolo_admin's forms) -------------------------------------------------------

    async def _allowed_actions(self, request: Request) -> list[Action]:
        staff = await staff_of(request)
        return [a for a in self.actions.values() if staff is not None and staff.at_least(a.minimum)]

    async def _action(self, request: Request, slug: str) -> Action:
        action = self.actions.get(slug)
        if action is None:
            raise HTTPException(status_code=404, detail="No such form found")
        await require_staff(request, action.minimum)
        return action

    @staticmethod
    def _summary(action: Action) -> FormConfigResponseModel:
        return FormConfigResponseModel(name=action.name, slug=action.slug, description=action.description)

    async def get_forms(self, request: Request) -> list[FormConfigResponseModel]:  # type: ignore[override]
        return [self._summary(a) for a in await self._allowed_actions(request)]

    async def get_grouped_forms(self, request: Request) -> GroupedFormsResponseModel:  # type: ignore[override]
        response = GroupedFormsResponseModel()
        for action in await self._allowed_actions(request):
            if action.form_group is None:
                response.ungrouped.append(self._summary(action))
            else:
                response.grouped.setdefault(action.form_group, []).append(self._summary(action))
        return response

    async def get_single_form(self, request: Request, form_slug: str) -> FormConfigResponseModel:  # type: ignore[override]
        return self._summary(await self._action(request, form_slug))

    async def get_single_form_schema(self, request: Request, form_slug: str) -> dict[str, Any]:  # type: ignore[override]
        schema: dict[str, Any] = (await self._action(request, form_slug)).pydantic_model.model_json_schema()
        return schema

    async def post_single_form(self, request: Request, form_slug: str) -> Response:
        """Run an action; its message, or the service's refusal, is what the form shows."""
        action = await self._action(request, form_slug)
        try:
            data = await request.json()
            model = action.pydantic_model(**data)
        except (JSONDecodeError, TypeError):
            return JSONResponse({"custom_form_error": "The form could not be read."}, status_code=422)
        except ValidationError as exc:
            errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
            return JSONResponse({"detail": errors, "code": "validation_error"}, status_code=422)
        try:
            result = action.endpoint(request, model)
            message = await result if inspect.isawaitable(result) else result
        except CinemaError as exc:
            return JSONResponse(
                {"custom_form_error": exc.detail, "code": exc.code, "status": exc.status_code},
                status_code=422,
            )
        return JSONResponse({"custom_form_success": message if isinstance(message, str) else "Done."})

    # --- the signed-in person's own password -------------------------------------------------

    async def change_password(self, request: Request) -> Response:
        """The admin's change-password page, through the accounts service (every session ends)."""
        body: Any = request.scope.get("form")
        if not body:
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                body = {}
        if not isinstance(body, dict):
            body = {}
        current = body.get("current_password")
        new = body.get("new_password")
        confirm = body.get("confirm_new_password")
        if not all(isinstance(value, str) and value for value in (current, new, confirm)):
            return JSONResponse(
                {"detail": "Give the current password, the new one and the new one again."}, status_code=422
            )
        if new != confirm:
            return JSONResponse({"detail": "The new password and its confirmation differ."}, status_code=422)
        client = request.client.host if request.client else None
        try:
            await recovery.change_password(int(request.user.user_id), None, current, new, client)
        except CinemaError as exc:
            return JSONResponse({"detail": exc.detail, "code": exc.code}, status_code=exc.status_code)
        response = JSONResponse({"detail": "Password changed. Sign in again with the new one."})
        response.delete_cookie("id", path="/")
        return response
