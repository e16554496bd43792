"""Structured request logs: JSON lines with a request id, and no secret in any line."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import time
from collections.abc import Iterator

import pytest

from cinema.logging import REDACTED, JsonFormatter, redact
from tests.ops.images import png


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged during the test, formatted exactly as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def parsed(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def request_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [line for line in parsed(stream) if line["logger"] == "cinema.request"]


async def test_request_line_has_id_method_path_status_duration(client, log_lines) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "req-42.a:b"})
    assert response.headers["x-request-id"] == "req-42.a:b"
    (line,) = request_lines(log_lines)
    assert line["request_id"] == "req-42.a:b"
    assert line["method"] == "GET"
    assert line["path"] == "/health"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO"
    assert str(line["ts"]).endswith("+00:00")


async def test_unsafe_request_id_is_replaced(client, log_lines) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "x" * 200})
    generated = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert request_lines(log_lines)[0]["request_id"] == generated
    other = await client.get("/health")
    assert other.headers["x-request-id"] != generated


async def test_lines_written_during_a_request_carry_its_id(client, make_user, log_lines) -> None:
    user = await make_user()
    response = await client.put(
        "/accounts/me/avatar",
        headers={**user.headers, "X-Request-ID": "upload-1"},
        files={"file": ("a.gif", b"GIF89a....", "image/gif")},
    )
    assert response.status_code == 415
    (line,) = request_lines(log_lines)
    assert line["user_id"] == user.id
    assert line["status"] == 415


async def test_no_secret_reaches_any_log_line(client, make_user, log_lines) -> None:
    user = await make_user()
    access_token = user.headers["Authorization"].split()[1]
    basic = base64.b64encode(f"{user.email}:{user.password}".encode()).decode()
    activation_secret = "ActivationSecretValue123"
    reset_secret = "ResetSecretValue456"

    await client.get("/openapi.json", headers={"Authorization": f"Basic {basic}"})
    await client.get("/openapi.json", headers={"Authorization": f"Basic {basic}x"})
    await client.get("/docs", headers=user.headers)
    await client.put(
        "/accounts/me/avatar", headers=user.headers, files={"file": ("a.png", png(), "image/png")}
    )
    await client.get(f"/accounts/activate?email={user.email}&token={activation_secret}")
    await client.post("/accounts/login", json={"email": user.email, "password": user.password})
    await client.post("/accounts/token", data={"username": user.email, "password": user.password})
    await client.post("/accounts/refresh", json={"refresh_token": user.refresh_token})
    await client.post(
        "/accounts/password/reset",
        json={"email": user.email, "token": reset_secret, "new_password": "N3w!Password"},
    )
    await client.get("/admin/")
    await client.post("/admin/public/login/", data={"username": user.email, "password": user.password})
    logging.getLogger("cinema.test").info(
        "calling with Authorization: Bearer %s", access_token, extra={"password": user.password}
    )

    text = log_lines.getvalue()
    assert len(request_lines(log_lines)) >= 10
    for secret in (
        access_token,
        user.refresh_token,
        user.password,
        basic,
        activation_secret,
        reset_secret,
        "N3w!Password",
    ):
        assert secret not in text, f"secret leaked into the logs: {secret[:6]}..."
    activation_line = next(line for line in request_lines(log_lines) if line["path"] == "/accounts/activate")
    assert activation_line["query"] == f"email={user.email.replace('@', '%40')}&token={REDACTED}"
    assert all(isinstance(line, dict) for line in parsed(log_lines))


def test_redaction_rules() -> None:
    jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    cases = {
        f"Authorization: Bearer {jwt_like}": "Authorization: Bearer [REDACTED]",
        "Basic dXNlcjpwYXNz": "Basic [REDACTED]",
        "password=hunter2&page=1": "password=[REDACTED]&page=1",
        '{"new_password": "S3cret!", "email": "a@b.c"}': '{"new_password": "[REDACTED]", "email": "a@b.c"}',
        "postgresql://app:pg-secret@db:5432/cinema": "postgresql://app:[REDACTED]@db:5432/cinema",
        "key sk_test_51abcdefghijklmnop": "key [REDACTED]",
        # Each pattern once more in other letter cases and spellings: the quick
        # pre-check (`_may_hold_a_secret`) must not let any of them through.
        f"x {jwt_like}": "x [REDACTED]",
        "BEARER abcdefgh1234": "BEARER [REDACTED]",
        "API-KEY=abc123": "API-KEY=[REDACTED]",
        "ApiKey=abc123": "ApiKey=[REDACTED]",
        "{'Client_Secret': 'abc'}": "{'Client_Secret': '[REDACTED]'}",
        "X-CSRF-Token=abc": "X-CSRF-Token=[REDACTED]",
        "redis://:r3dis-pw@cache:6379/0": "redis://:[REDACTED]@cache:6379/0",
        "rk_live_abcdefgh123 whsec_abcdefgh123": "[REDACTED] [REDACTED]",
        "GET /movies/501 200": "GET /movies/501 200",
    }
    for raw, expected in cases.items():
        assert redact(raw) == expected, raw

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s", (jwt_like,), None)
    record.stripe_api_key = "sk_live_abcdefghijkl"
    record.attempts = 3
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "token [REDACTED]"
    assert line["stripe_api_key"] == REDACTED
    assert line["attempts"] == 3


async def test_secrets_in_query_strings_are_redacted_however_encoded(client, log_lines) -> None:
    """Query values are redacted decoded (`%20` is a space for the Bearer pattern), keys by name."""
    secret = "QuerySecretValue789"
    queries = [
        f"x=Bearer%20{secret}",
        f"x=BeArEr+{secret}",
        f"search=Basic%20{secret}",
        f"x=password%3D{secret}",
        f"a=1;password={secret}",
        f"search=postgres://user:{secret}@host/db",
        f"x=%22password%22:%22{secret}%22",
        f"auth={secret}",
        f"pa%C5%BF%C5%BFword={secret}",  # "password" spelled with long s (U+017F)
    ]
    for query in queries:
        response = await client.get(f"/movies?{query}")
        assert response.status_code in (200, 422), query
    lines = request_lines(log_lines)
    assert len(lines) == len(queries)
    assert secret not in log_lines.getvalue()
    assert all(REDACTED in str(line["query"]) for line in lines)


@pytest.mark.parametrize(
    "hostile",
    [
        '"password":"' + "\\" * 40,  # two ways to take a backslash: exponential
        "a-" * 10_000 + "password=",  # a match could start at every dash: quadratic
        "password" * 2_500 + "=",  # the secret word again and again inside one run
        "a" * 20_000 + ":/x://",  # a URL scheme could start at every letter
        "eyJ" * 7_000,  # a JWT could start at every repetition
    ],
)
def test_redaction_takes_linear_time_on_hostile_text(hostile: str) -> None:
    started = time.perf_counter()
    redact(hostile)
    assert time.perf_counter() - started < 0.5


def test_the_linear_patterns_still_redact_what_they_did() -> None:
    text = (
        'x-api-key=abc123 db_password=hunter2 "client_secret": "s\\"x" {\'token\': \'t\'} '
        "postgres://u:pw@h/db auth=eyJhbGciOi.eyJzdWIi.sig Bearer abcdefghijkl"
    )
    assert redact(text) == (
        f'x-api-key={REDACTED} db_password={REDACTED} "client_secret": "{REDACTED}" '
        f"{{'token': '{REDACTED}'}} postgres://u:{REDACTED}@h/db auth={REDACTED} Bearer {REDACTED}"
    )
