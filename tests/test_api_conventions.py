"""docs/api.md conventions that hold across domains: paging bounds, id bounds, sandbox mounting."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cinema.accounts.actor import GroupName
from cinema.config import get_settings


async def test_any_page_past_the_end_is_empty_and_absurd_numbers_are_422(client: Any) -> None:
    for page in (1_000_000, 10**12, 2**53):
        ok = await client.get("/movies", params={"page": page, "per_page": 100})
        assert ok.status_code == 200, page
        assert ok.json()["items"] == []
        assert ok.json()["total"] == 0
    response = await client.get("/movies", params={"page": 2**53 + 1})
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/payments/99999999999", "/payments/99999999999/refund"])
async def test_ids_beyond_integer_range_are_422(client: Any, make_user: Any, path: str) -> None:
    admin = await make_user(group=GroupName.ADMIN)
    method = client.get if path.count("/") == 2 else client.post
    response = await method(path, headers=admin.headers)
    assert response.status_code == 422


async def test_sandbox_route_is_mounted_only_without_stripe(
    monkeypatch: pytest.MonkeyPatch, make_user: Any
) -> None:
    from cinema.api.app import create_app

    def routes_of(app: Any) -> set[str]:
        return set(app.openapi()["paths"])

    get_settings.cache_clear()
    assert "/payments/{payment_id}/sandbox/{outcome}" in routes_of(create_app())

    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_123")
    monkeypatch.setenv("PAYMENT_GATEWAY", "stripe")
    get_settings.cache_clear()
    stripe_app = create_app()
    assert "/payments/{payment_id}/sandbox/{outcome}" not in routes_of(stripe_app)
    user = await make_user()
    transport = httpx.ASGITransport(app=stripe_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post("/payments/1/sandbox/succeed", headers=user.headers)
    assert response.status_code == 404


async def test_every_path_answers_with_and_without_its_trailing_slash(
    app: Any, client: Any, make_user: Any
) -> None:
    """One route per path; `TrailingSlash` folds `/x/` into `/x` (no redirect), mounts keep theirs."""
    user = await make_user()
    for path in ("/movies", "/genres", "/cart", "/orders", "/payments", "/favorites", "/accounts/me"):
        plain = await client.get(path, headers=user.headers)
        slashed = await client.get(path + "/", headers=user.headers)
        assert (plain.status_code, slashed.status_code) == (200, 200), path
        assert slashed.json() == plain.json(), path
    created = await client.post("/orders/", headers=user.headers)
    assert (created.status_code, created.json()["code"]) == (400, "empty_cart")
    assert (await client.get("/movies//")).status_code == 404  # one slash is folded, not any number
    admin_page = await client.get("/admin/")  # Piccolo Admin's own page, its slash kept
    assert admin_page.status_code == 200
    assert "text/html" in admin_page.headers["content-type"]
    paths = set(app.openapi()["paths"])
    assert {"/orders", "/payments", "/movies"} <= paths
    assert not [p for p in paths if p.endswith("/")]


async def test_trailing_slash_folding_behind_a_root_path(app: Any) -> None:
    """Behind a proxy prefix (`root_path`), `/api/admin/` is still the admin mount's own page."""
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        movies = await http.get("/api/movies/")
        admin_page = await http.get("/api/admin/")
    assert movies.status_code == 200
    assert movies.json()["items"] == []
    assert admin_page.status_code == 200
    assert "text/html" in admin_page.headers["content-type"]
