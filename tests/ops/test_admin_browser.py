"""Piccolo Admin in a real browser: headless Chromium (Debian's package) driven by Playwright.

A moderator signs in with their normal account, opens the movies table, edits
a price and saves; the change is then read back through the public API
(`GET /movies/{id}`). A USER's sign-in is refused. Screenshots are written to
`screenshots/` (git-ignored). Skips when Chromium or Playwright is missing,
unless CINEMA_REQUIRE_SERVICES=1 (CI), where it fails instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cinema.accounts.tables import GroupName
from tests.conftest import REQUIRE_SERVICES
from tests.ops.conftest import ROOT, make_movie

#: Debian's chromium by default; CHROMIUM_PATH selects another build (e.g. on GitHub runners).
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "screenshots"


def _require_browser() -> None:
    missing = []
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing.append(f"Chromium ({CHROMIUM}; apt-get install chromium)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    _require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _sign_in(page: Any, base: str, email: str, password: str) -> None:
    await page.goto(f"{base}/admin/")
    await page.wait_for_selector("input[name=username]")
    await page.fill("input[name=username]", email)
    await page.fill("input[name=password]", password)
    await page.click("button[data-uitest=login_button]")


async def test_moderator_edits_a_price_and_the_api_shows_it(browser, make_user, serve) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    moderator = await make_user(group=GroupName.MODERATOR)
    movie_id = await make_movie(name="Heat", price="9.99")
    server = serve()

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    await _sign_in(page, server.url, moderator.email, moderator.password)
    await page.wait_for_selector("[data-uitest=nav_dropdown_button]")
    assert await page.get_attribute("[data-uitest=nav_dropdown_button]", "title") == moderator.email
    await page.screenshot(path=str(SCREENSHOTS / "admin-moderator-home.png"))

    await page.goto(f"{server.url}/admin/#/movies")
    row = page.locator("table tr", has_text="Heat")
    await row.wait_for()
    assert "9.99" in await row.inner_text()
    # The sidebar lists the catalog and commerce tables, not the account tables.
    await page.locator(".sidebar a", has_text="Payments").first.wait_for()
    sidebar = await page.inner_text(".sidebar")
    assert "Movies" in sidebar
    assert "Orders" in sidebar
    assert "Users" not in sidebar
    assert "Refresh Tokens" not in sidebar
    await page.screenshot(path=str(SCREENSHOTS / "admin-movies.png"))

    await row.locator(f"a[href='#/movies/{movie_id}/']").click()
    price = page.locator("input[name=price]")
    await price.wait_for()
    await page.wait_for_function("document.querySelector('input[name=price]').value === '9.99'")
    await price.fill("14.25")
    await page.click("form button:has-text('Save')")
    await page.wait_for_selector("text=Successfully saved row")
    await page.screenshot(path=str(SCREENSHOTS / "admin-movie-saved.png"), full_page=True)
    assert errors == []

    async with httpx.AsyncClient(base_url=server.url) as http:
        detail = await http.get(f"/movies/{movie_id}")
        assert detail.status_code == 200, detail.text
        assert detail.json()["price"] == "14.25"
        assert detail.json()["name"] == "Heat"
    await context.close()


async def test_a_users_sign_in_is_refused(browser, make_user, serve) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    user = await make_user(group=GroupName.USER)
    server = serve()
    context = await browser.new_context()
    page = await context.new_page()
    responses: list[int] = []
    page.on(
        "response", lambda r: responses.append(r.status) if r.url.endswith("/admin/public/login/") else None
    )

    await _sign_in(page, server.url, user.email, user.password)
    await page.wait_for_selector("text=Problem logging in")
    await page.screenshot(path=str(SCREENSHOTS / "admin-user-refused.png"))
    assert responses == [401]
    assert await page.locator("[data-uitest=nav_dropdown_button]").count() == 0
    assert await page.locator("button[data-uitest=login_button]").is_visible()
    cookies = {c["name"] for c in await context.cookies()}
    assert "id" not in cookies  # no admin session was opened
    await context.close()
