"""What one request may cost: body size, what a 422 echoes, and time on the event loop.

- Request bodies over `MAX_REQUEST_BODY_BYTES` (1 MiB) are 413
  `payload_too_large` before anything reads or parses them (declared length),
  or as soon as the bytes received pass it (chunked); the avatar upload keeps
  its own 5 MB cap (`BodySizeLimit` overrides by path).
- A 422 never echoes more than a short prefix of what was sent.
- JSON lists in bodies have bounds, and hostile bodies, deep nesting or a
  crafted query string cost milliseconds, not seconds, of the event loop.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cinema.api.bodylimit import BodySizeLimit
from cinema.api.routers.avatars import MAX_BODY_BYTES
from cinema.config import get_settings
from tests.ops.images import png

MIB = 1024 * 1024


async def test_a_declared_oversized_body_is_413_before_authentication_or_parsing(client) -> None:
    pulled: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        for _ in range(32):
            pulled.append(1)
            yield b" " * 65536

    headers = {"content-type": "application/json", "content-length": str(MIB + 1)}
    response = await client.post("/movies", content=body(), headers=headers)  # no token either

    assert response.status_code == 413
    assert response.json() == {
        "detail": f"The request body is larger than the {MIB} bytes allowed here.",
        "code": "payload_too_large",
    }
    assert len(pulled) <= 1  # nobody asked for the body


async def test_a_streamed_body_is_cut_off_once_past_the_limit(client) -> None:
    """No Content-Length (chunked): the read that crosses 1 MiB ends the request."""
    pulled: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        yield b'{"email": "a@example.com", "password": "'
        for _ in range(64):  # 4 MiB in all
            pulled.append(1)
            yield b"x" * 65536
        yield b'"}'

    response = await client.post(
        "/accounts/login", content=body(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert len(pulled) <= MIB // 65536 + 1


async def test_a_body_under_the_limit_is_served(client) -> None:
    padded = json.dumps({"email": "nobody@example.com", "password": "x", "pad": " " * 1000})
    response = await client.post(
        "/accounts/login", content=padded.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 401


async def test_the_avatar_upload_keeps_its_own_larger_cap(client, make_user) -> None:
    user = await make_user()
    two_mib = png() + b"\x00" * (2 * MIB)

    accepted = await client.put(
        "/accounts/me/avatar", headers=user.headers, files={"file": ("a.png", two_mib)}
    )
    refused = await client.put(
        "/accounts/me/avatar",
        headers={**user.headers, "content-type": "multipart/form-data; boundary=x"},
        content=b"\x00" * (MAX_BODY_BYTES + 1),
    )

    assert accepted.status_code == 200, accepted.text
    assert refused.status_code == 413
    assert refused.json()["code"] == "payload_too_large"


def _echo_app(limit: int, overrides: dict[str, int]) -> httpx.AsyncClient:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"read": len(await request.body())})

    app = Starlette(routes=[Route("/{path:path}", echo, methods=["POST"])])
    transport = httpx.ASGITransport(app=BodySizeLimit(app, limit=limit, overrides=overrides))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.mark.parametrize(
    ("path", "size", "status"),
    [
        ("/json", 100, 200),
        ("/json", 101, 413),
        ("/upload", 500, 200),
        ("/upload/part", 500, 200),  # a prefix covers the paths below it
        ("/upload", 501, 413),
        ("/uploads", 101, 413),  # but not a longer name
        ("/upload/big", 900, 200),  # the longest prefix wins
    ],
)
async def test_the_limit_and_its_per_path_overrides(path: str, size: int, status: int) -> None:
    async with _echo_app(100, {"/upload": 500, "/upload/big": 1000}) as http:
        declared = await http.post(path, content=b"x" * size)

        async def chunked() -> AsyncIterator[bytes]:
            for _ in range(size):
                yield b"x"

        streamed = await http.post(path, content=chunked())

    assert declared.status_code == streamed.status_code == status
    if status == 413:
        # A streamed overflow is an HTTP 413 exception the app's handlers render (the API's: JSON).
        assert declared.json()["code"] == "payload_too_large"
    else:
        assert declared.json() == {"read": size}


def test_the_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_REQUEST_BODY_BYTES", "4096")
    get_settings.cache_clear()
    assert get_settings().max_request_body_bytes == 4096
    monkeypatch.setenv("MAX_REQUEST_BODY_BYTES", "10")  # below any sane JSON body: refused
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="max_request_body_bytes"):
        get_settings()


# --- what a 422 says back ------------------------------------------------------------------------


async def test_a_422_echoes_only_a_short_prefix_of_a_long_input(client, make_user) -> None:
    user = await make_user()
    response = await client.patch(
        "/accounts/me/profile", headers=user.headers, json={"first_name": "y" * 200_000, "z" * 50_000: 1}
    )

    assert response.status_code == 422
    assert len(response.content) < 2_000
    errors = {e["type"]: e for e in response.json()["detail"]}
    assert errors["string_too_long"]["input"] == "y" * 100 + "..."
    assert errors["extra_forbidden"]["loc"] == ["body", "z" * 100 + "..."]


async def test_a_422_about_a_whole_body_echoes_a_bounded_shape(client) -> None:
    nested: Any = "deep"
    for _ in range(50):
        nested = {"k": [nested, "x" * 500]}
    response = await client.post("/accounts/login", json=[nested] * 20)

    assert response.status_code == 422
    assert len(response.content) < 4_000


async def test_body_lists_are_bounded(client) -> None:
    ids = list(range(1, 100_000))  # 0.7 MB: under the body limit
    started = time.perf_counter()
    response = await client.post(
        "/accounts/register",
        json={"email": "many@example.com", "password": "Str0ng!Passw0rd", "cart_movie_ids": ids},
    )
    elapsed = time.perf_counter() - started

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("too_long", ["body", "cart_movie_ids"])
    assert elapsed < 1.0


def test_every_list_in_a_request_body_has_a_documented_bound() -> None:
    from cinema.api.app import create_app

    document = create_app().openapi()
    schemas = document["components"]["schemas"]
    request_models = {
        content["schema"]["$ref"].rsplit("/", 1)[-1]
        for path in document["paths"].values()
        for operation in path.values()
        for content in operation.get("requestBody", {}).get("content", {}).values()
        if "$ref" in content.get("schema", {})
    }
    unbounded = []

    def walk(name: str, schema: dict[str, Any]) -> None:
        for option in schema.get("anyOf", [schema]):
            if option.get("type") == "array" and "maxItems" not in option:
                unbounded.append(name)

    for model in request_models:
        for field, schema in schemas[model].get("properties", {}).items():
            walk(f"{model}.{field}", schema)
    assert request_models >= {"RegisterIn", "LoginIn", "MovieCreate", "MovieUpdate"}
    assert unbounded == []


# --- time on the event loop ----------------------------------------------------------------------


async def test_deeply_nested_json_is_refused_quickly(client) -> None:
    depth = 100_000  # about 200 kB
    started = time.perf_counter()
    response = await client.post(
        "/accounts/login", content=b"[" * depth + b"]" * depth, headers={"content-type": "application/json"}
    )
    elapsed = time.perf_counter() - started

    assert 400 <= response.status_code < 500
    assert elapsed < 1.0


async def test_a_hostile_query_string_costs_the_request_log_no_time(client) -> None:
    """The request log redacts the query string; these once took seconds to minutes (backtracking)."""
    hostile = {
        "unclosed escapes": '"password":"' + "\\" * 34,  # exponential before: ~7 s, x2 per 2 more
        "dashed word": "a-" * 5000 + "password",  # quadratic before: ~6 s
        "long scheme": "a" * 20000 + "://",
    }
    for label, value in hostile.items():
        started = time.perf_counter()
        response = await client.get("/health", params={"q": value})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        assert elapsed < 1.0, (label, elapsed)
