"""The docs guard, the probes and CORS."""

from __future__ import annotations

import base64

import httpx
import pytest

from cinema.accounts.actor import GroupName
from cinema.config import get_settings
from tests.conftest import redis_url_or_skip

DOC_PATHS = ["/docs", "/redoc", "/openapi.json"]


def basic(email: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


@pytest.mark.parametrize("path", DOC_PATHS)
async def test_docs_need_credentials(client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    challenges = response.headers.get_list("www-authenticate")
    assert challenges == ['Basic realm="Cinema API docs", charset="UTF-8"', 'Bearer realm="Cinema API docs"']


@pytest.mark.parametrize("path", DOC_PATHS)
async def test_docs_with_basic_credentials_of_an_active_account(client, make_user, path: str) -> None:
    user = await make_user(group=GroupName.USER)
    response = await client.get(path, headers=basic(user.email.upper(), user.password))
    assert response.status_code == 200


@pytest.mark.parametrize("path", DOC_PATHS)
async def test_docs_with_a_bearer_token(client, make_user, path: str) -> None:
    user = await make_user()
    response = await client.get(path, headers=user.headers)
    assert response.status_code == 200


async def test_docs_refuse_wrong_password_inactive_account_and_bad_tokens(client, make_user) -> None:
    user = await make_user()
    inactive = await make_user(active=False)
    refused = [
        basic(user.email, user.password + "x"),
        basic("nobody@example.com", user.password),
        basic(inactive.email, inactive.password),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Bearer " + inactive.headers["Authorization"].split()[1]},
        {"Authorization": "Digest abc"},
    ]
    for headers in refused:
        response = await client.get("/openapi.json", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers.get_list("www-authenticate")[0].startswith("Basic ")


async def test_docs_public_setting_opens_them(client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCS_PUBLIC", "true")
    get_settings.cache_clear()
    for path in DOC_PATHS:
        assert (await client.get(path)).status_code == 200


async def test_swagger_authorize_uses_the_token_endpoint(client, make_user) -> None:
    user = await make_user()
    schema = (await client.get("/openapi.json", headers=user.headers)).json()
    oauth = schema["components"]["securitySchemes"]["OAuth2Password"]
    assert oauth["flows"]["password"]["tokenUrl"] == "/accounts/token"
    avatar_put = schema["paths"]["/accounts/me/avatar"]["put"]
    assert {"OAuth2Password": []} in avatar_put["security"]
    assert {"HTTPBearer": []} in avatar_put["security"]
    assert "multipart/form-data" in avatar_put["requestBody"]["content"]
    assert {"413", "415"} <= set(avatar_put["responses"])
    page = await client.get("/docs", headers=user.headers)
    assert "oauth2RedirectUrl" in page.text
    assert "/docs/oauth2-redirect" in page.text
    redirect = await client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200
    assert "/health" in schema["paths"]
    assert "/ready" in schema["paths"]


# --- probes -----------------------------------------------------------------------------------


async def test_health_is_ok_without_auth(client) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert (await client.get("/health/")).status_code == 200


async def test_ready_checks_the_database(client) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "schema": "ok", "redis": "skipped"},
        "failed": [],
    }


async def test_ready_checks_redis_when_configured(client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url_or_skip())
    get_settings.cache_clear()
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "schema": "ok", "redis": "ok"}


async def test_ready_is_503_when_redis_is_down(client, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import free_port

    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    get_settings.cache_clear()
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "schema": "ok", "redis": "failed"},
        "failed": ["redis"],
    }


# --- CORS ---------------------------------------------------------------------------------------


async def _client_for_new_app(monkeypatch: pytest.MonkeyPatch, origins: str | None) -> httpx.AsyncClient:
    if origins is None:
        monkeypatch.delenv("CORS_ORIGINS", raising=False)
    else:
        monkeypatch.setenv("CORS_ORIGINS", origins)
    get_settings.cache_clear()
    from cinema.api.app import create_app

    transport = httpx.ASGITransport(app=create_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_cors_only_for_configured_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    origins = '["https://shop.example", "https://admin.example"]'
    async with await _client_for_new_app(monkeypatch, origins) as http:
        preflight = {"Origin": "https://shop.example", "Access-Control-Request-Method": "PUT"}
        allowed = await http.options("/accounts/me/avatar", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        simple = await http.get("/health", headers={"Origin": "https://admin.example"})
        assert simple.headers["access-control-allow-origin"] == "https://admin.example"
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()

        evil = await http.options(
            "/accounts/me/avatar",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"},
        )
        assert evil.status_code == 400
        assert "access-control-allow-origin" not in evil.headers
        evil_get = await http.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in evil_get.headers


async def test_no_cors_headers_without_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    async with await _client_for_new_app(monkeypatch, None) as http:
        response = await http.get("/health", headers={"Origin": "https://shop.example"})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "raw",
    ["https://shop.example, https://admin.example", '["https://shop.example", "https://admin.example"]'],
)
def test_cors_origins_accept_a_comma_list_or_json(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("CORS_ORIGINS", raw)
    get_settings.cache_clear()
    assert get_settings().cors_origins == ["https://shop.example", "https://admin.example"]
