"""Text with NUL or other control characters is a 422 on every engine (`cinema.text`).

PostgreSQL cannot store NUL and SQLite can, so the same request used to be a
201 on one engine and a 422 (or a 500) on the other. Now every text field of
every request model, and every text query parameter, refuses C0 controls and
DEL before a service runs; multi-line text keeps tab and line breaks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from tests.conftest import STRONG_PASSWORD
from tests.ops.conftest import make_movie

BAD = ["\x00", "\x01", "\x1b", "\x7f"]


def _string_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    options = schema.get("anyOf", [schema])
    if any(o.get("type") in ("number", "integer") for o in options):
        return []  # a Decimal: a number, or the same number as a string
    found = [o for o in options if o.get("type") == "string"]
    for option in options:
        if option.get("type") == "array":
            found += _string_schemas(option.get("items", {}))
    return found


#: Strings that are not free text: checked by their own format (email-validator refuses
#: controls), never stored (a password being checked is only compared by bcrypt), or
#: the OAuth2 form's fields FastAPI defines and the API ignores.
EXEMPT = {
    "RegisterIn.email",
    "LoginIn.password",
    "PasswordChangeIn.old_password",
    "Body_token_accounts_token_post.password",
    "Body_token_accounts_token_post.grant_type",
    "Body_token_accounts_token_post.scope",
    "Body_token_accounts_token_post.client_id",
    "Body_token_accounts_token_post.client_secret",
}


def test_every_request_text_field_and_text_query_carries_the_rule() -> None:
    from cinema.api.app import create_app

    document = create_app().openapi()
    schemas = document["components"]["schemas"]
    unguarded: list[str] = []
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in (p for p in operation.get("parameters", []) if p["in"] == "query"):
                for option in _string_schemas(parameter["schema"]):
                    if "enum" in option or option.get("format") in ("date", "date-time"):
                        continue
                    checked += 1
                    if "pattern" not in option:
                        unguarded.append(f"{method.upper()} {path} ?{parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref")
                if ref is None:
                    continue
                model = ref.rsplit("/", 1)[-1]
                for field, schema in schemas[model].get("properties", {}).items():
                    for option in _string_schemas(schema):
                        if "enum" in option or option.get("format") in ("date", "date-time", "binary"):
                            continue
                        checked += 1
                        if "pattern" not in option and f"{model}.{field}" not in EXEMPT:
                            unguarded.append(f"{model}.{field}")
    assert checked > 30
    assert unguarded == []


Call = Callable[[str], Awaitable[Any]]


@pytest.fixture
async def doors(client, make_user) -> dict[str, tuple[Call, bool]]:
    """Each text input of the API: a call sending `text` in it, and whether it is multi-line."""
    admin = await make_user(group=GroupName.ADMIN)
    user = await make_user()
    movie_id = await make_movie()

    def post(url: str, body: Callable[[str], dict[str, Any]], headers: Any = None) -> Call:
        return lambda text: client.post(url, json=body(text), headers=headers)

    def movie(**fields: Any) -> dict[str, Any]:
        return {
            "name": "Ronin",
            "year": 1998,
            "time": 122,
            "imdb": 7.2,
            "price": "4.50",
            "certification": "R",
            **fields,
        }

    return {
        "register email": (
            post(
                "/accounts/register", lambda t: {"email": f"a{t}b@example.com", "password": STRONG_PASSWORD}
            ),
            False,
        ),
        "register password": (
            post("/accounts/register", lambda t: {"email": "new@example.com", "password": f"Str0ng!{t}Pass"}),
            False,
        ),
        "login email": (
            post("/accounts/login", lambda t: {"email": f"a{t}b@example.com", "password": "x"}),
            False,
        ),
        "token form username": (
            lambda t: client.post("/accounts/token", data={"username": f"a{t}@example.com", "password": "x"}),
            False,
        ),
        "activate token": (
            post("/accounts/activate", lambda t: {"email": user.email, "token": f"x{t}y"}),
            False,
        ),
        "activation link": (
            lambda t: client.get("/accounts/activate", params={"email": f"a{t}@example.com", "token": "x"}),
            False,
        ),
        "resend email": (
            post("/accounts/activation/resend", lambda t: {"email": f"a{t}@example.com"}),
            False,
        ),
        "forgot email": (post("/accounts/password/forgot", lambda t: {"email": f"a{t}@example.com"}), False),
        "reset token": (
            post(
                "/accounts/password/reset",
                lambda t: {"email": user.email, "token": f"x{t}y", "new_password": STRONG_PASSWORD},
            ),
            False,
        ),
        "refresh token": (post("/accounts/refresh", lambda t: {"refresh_token": f"x{t}y"}), False),
        "new password": (
            post(
                "/accounts/password/change",
                lambda t: {"old_password": STRONG_PASSWORD, "new_password": f"N3w!{t}Passw0rd"},
                user.headers,
            ),
            False,
        ),
        "profile name": (
            lambda t: client.patch(
                "/accounts/me/profile", json={"first_name": f"An{t}n"}, headers=user.headers
            ),
            False,
        ),
        "profile info": (
            lambda t: client.patch(
                "/accounts/me/profile", json={"info": f"Hi{t}there"}, headers=user.headers
            ),
            True,
        ),
        "user search": (
            lambda t: client.get("/accounts/users", params={"email": f"a{t}"}, headers=admin.headers),
            False,
        ),
        "movie name": (post("/movies", lambda t: movie(name=f"Ro{t}nin"), admin.headers), False),
        "movie description": (
            post("/movies", lambda t: movie(description=f"Line{t}two"), admin.headers),
            True,
        ),
        "movie genre": (post("/movies", lambda t: movie(genres=[f"Thr{t}iller"]), admin.headers), False),
        "movie update": (
            lambda t: client.patch(
                f"/movies/{movie_id}", json={"certification": f"P{t}G"}, headers=admin.headers
            ),
            False,
        ),
        "genre name": (post("/genres", lambda t: {"name": f"No{t}ir"}, admin.headers), False),
        "comment": (
            post(f"/movies/{movie_id}/comments", lambda t: {"text": f"Great{t}film"}, user.headers),
            True,
        ),
        "refund reason": (post("/orders/1/refund", lambda t: {"reason": f"Not{t}mine"}, user.headers), True),
        "movie search": (lambda t: client.get("/movies", params={"search": f"He{t}at"}), False),
        "star search": (lambda t: client.get("/stars", params={"search": f"Al{t}"}), False),
    }


@pytest.mark.parametrize("char", BAD, ids=[f"U+{ord(c):04X}" for c in BAD])
async def test_control_characters_are_422_everywhere(doors, char: str) -> None:
    answers = {name: await call(char) for name, (call, _) in doors.items()}

    wrong = {name: r.status_code for name, r in answers.items() if r.status_code != 422}
    assert wrong == {}
    for name, response in answers.items():
        types = {e["type"] for e in response.json()["detail"]}
        # EmailStr has its own check (email-validator), with its own message.
        assert types == ({"value_error"} if name == "register email" else {"control_characters"}), name


async def test_line_breaks_are_refused_in_one_line_text_and_kept_in_multi_line_text(doors) -> None:
    answers = {name: (await call("\r\n\t"), multiline) for name, (call, multiline) in doors.items()}

    one_line = {name: r.status_code for name, (r, multiline) in answers.items() if not multiline}
    multi_line = {name: r.status_code for name, (r, multiline) in answers.items() if multiline}
    assert {name: status for name, status in one_line.items() if status != 422} == {}
    assert multi_line == {"profile info": 200, "movie description": 201, "comment": 201, "refund reason": 404}
