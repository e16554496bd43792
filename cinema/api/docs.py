"""The API documentation (`/docs`, `/redoc`, `/openapi.json`), served only to authorized callers.

docs/api.md, "Conventions": the docs need HTTP Basic with an active account's email and password,
or a Bearer access token, unless `DOCS_PUBLIC` is set (local development).
Without valid credentials the answer is 401 with two challenges,
`WWW-Authenticate: Basic realm="Cinema API docs"` (so a browser asks for the
email and password) and `Bearer`.

The OpenAPI document declares, next to the `HTTPBearer` scheme the routes use,
an OAuth2 password flow on `POST /accounts/token`, so Swagger UI's Authorize
button signs in with an email and password and then sends the access token.
`/docs/oauth2-redirect` (a static helper page of Swagger UI) stays public.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import (
    get_openapi,
    validation_error_definition,
    validation_error_response_definition,
)
from fastapi.responses import HTMLResponse, JSONResponse

from cinema.accounts.auth import check_credentials
from cinema.accounts.errors import InvalidCredentials
from cinema.accounts.sessions import authenticate
from cinema.api.errors import ErrorBody
from cinema.config import get_settings
from cinema.errors import NotAuthenticated

OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
TOKEN_URL = "/accounts/token"  # noqa: S105 - a path, not a secret
REALM = "Cinema API docs"
OAUTH2_SCHEME = "OAuth2Password"


class DocsAuthRequired(NotAuthenticated):
    """401 for the docs: answered with Basic and Bearer challenges."""

    code = "not_authenticated"
    default_detail = (
        "The API documentation needs an active account: HTTP Basic (email, password) or a valid Bearer token."
    )
    #: One `WWW-Authenticate` header each (cinema.api.errors); Basic first so browsers prompt.
    www_authenticate = (f'Basic realm="{REALM}", charset="UTF-8"', f'Bearer realm="{REALM}"')


async def _password_ok(email: str, password: str, client_ip: str | None) -> bool:
    """True for an active account's email and password (any group).

    Goes through the sign-in limits like `POST /accounts/login`: a wrong
    password counts as a failed sign-in, and a locked account or address gets
    `TooManyRequests` (429) without its password being checked.
    """
    if len(email) > 255:
        return False
    try:
        found = await check_credentials(email, password, client_ip)
    except InvalidCredentials:
        return False
    return found.active


async def require_docs_access(request: Request) -> None:
    """Dependency: pass when docs are public or the caller is an active account, else 401."""
    if get_settings().docs_public:
        return
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value:
        try:
            await authenticate(value)
        except NotAuthenticated:
            raise DocsAuthRequired() from None
        return
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise DocsAuthRequired() from None
        email, sep, password = decoded.partition(":")
        if sep and await _password_ok(email, password, request.client.host if request.client else None):
            return
        raise DocsAuthRequired()
    raise DocsAuthRequired()


_ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
_VALIDATION_BODY = {"$ref": "#/components/schemas/HTTPValidationError"}


def _declare_both_422_shapes(operation: dict[str, Any], components: dict[str, Any]) -> None:
    """A 422 is FastAPI's validation list or a domain rule's `{"detail", "code"}`: declare both.

    (`ValidationFailed`, e.g. a weak password or an inverted range, answers 422
    with the error body every other error uses; docs/api.md, "Conventions".) A route whose `responses=` name
    a 422 class (`error_responses`) has only the error body there, as FastAPI
    then adds no validation shape of its own: it is added back.
    """
    content = operation.get("responses", {}).get("422", {}).get("content", {}).get("application/json")
    if not content or "schema" not in content:
        return
    if content["schema"] == _ERROR_BODY:
        content["schema"] = {"anyOf": [_VALIDATION_BODY, _ERROR_BODY]}
        components.setdefault("ValidationError", validation_error_definition)
        components.setdefault("HTTPValidationError", validation_error_response_definition)
    else:
        content["schema"] = {"anyOf": [content["schema"], _ERROR_BODY]}


def _custom_openapi(app: FastAPI) -> Any:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[OAUTH2_SCHEME] = {
            "type": "oauth2",
            "description": "Sign in with your email as the username; the access token is then sent as Bearer.",
            "flows": {"password": {"tokenUrl": TOKEN_URL, "scopes": {}}},
        }
        components = schema["components"].setdefault("schemas", {})
        components.setdefault("ErrorBody", ErrorBody.model_json_schema())
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict):
                    continue
                security = operation.get("security")
                if security and any("HTTPBearer" in item for item in security):
                    operation["security"] = [*security, {OAUTH2_SCHEME: []}]
                _declare_both_422_shapes(operation, components)
        app.openapi_schema = schema
        return schema

    return build


def install(app: FastAPI) -> None:
    """Add the guarded docs routes to `app` (created with docs/redoc/openapi URLs set to None)."""
    guard = [Depends(require_docs_access)]
    app.openapi = _custom_openapi(app)  # type: ignore[method-assign]

    async def openapi_json(request: Request) -> JSONResponse:
        return JSONResponse(app.openapi())

    async def swagger(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            swagger_ui_parameters={"persistAuthorization": True},
        )

    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(openapi_url=OPENAPI_URL, title=f"{app.title} - ReDoc")

    app.add_api_route(OPENAPI_URL, openapi_json, include_in_schema=False, dependencies=guard)
    app.add_api_route(DOCS_URL, swagger, include_in_schema=False, dependencies=guard)
    app.add_api_route(OAUTH2_REDIRECT_URL, oauth2_redirect, include_in_schema=False)
    app.add_api_route(REDOC_URL, redoc, include_in_schema=False, dependencies=guard)
