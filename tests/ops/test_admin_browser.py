"""Piccolo Admin in a real browser: headless Chromium (Debian's package) driven by Playwright.

A moderator signs in with their normal account (the form asks for an email),
opens the movies table, edits a price and saves; the change is then read back
through the public API (`GET /movies/{id}`). A moderator who opens a table
their role may not use is told so. A USER's sign-in is refused. An ADMIN
approves a refund with the "Approve refund" action, against localstripe: the
buyer loses the movie, the payment is refunded and Stripe holds the refund.
Screenshots are written to `screenshots/` (git-ignored). Skips when Chromium
or Playwright is missing, unless CINEMA_REQUIRE_SERVICES=1 (CI), where it
fails instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cinema.accounts.actor import GroupName
from tests.conftest import REQUIRE_SERVICES
from tests.ops.admin_helpers import build_world
from tests.ops.conftest import ROOT, make_movie
from tests.stripe_stack import StripeStack, confirm, eventually, run_stripe_stack

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
    # The labels are translated once the page has fetched its translation.
    await page.locator("form label", has_text="Email").wait_for()
    labels = await page.locator("form label").all_inner_texts()
    assert labels[:2] == ["Email", "Password"]
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
    await page.locator(".sidebar a", has_text="Orders").first.wait_for()
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
    # A price the catalog service refuses: its sentence is shown, nothing is saved.
    await price.fill("0.00")
    await page.click("form button:has-text('Save')")
    await page.locator("text=A movie's price must be at least 0.01.").wait_for()
    await page.screenshot(path=str(SCREENSHOTS / "admin-movie-refused.png"), full_page=True)
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


async def test_a_moderator_is_told_why_a_table_stays_closed(browser, make_user, serve) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    world = await build_world(make_user)
    moderator = world.moderator
    server = serve()
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()

    await _sign_in(page, server.url, moderator.email, moderator.password)
    await page.wait_for_selector("[data-uitest=nav_dropdown_button]")
    # A comment's page is theirs, though its author picker cannot list the users: no banner.
    await page.goto(f"{server.url}/admin/#/comments/{world.comment_id}/")
    await page.wait_for_function("document.querySelector('textarea')?.value === 'Great heist.'")
    await page.wait_for_load_state("networkidle")
    assert await page.locator("#cinema-admin-notice").count() == 0

    await page.goto(f"{server.url}/admin/#/users")
    notice = page.locator("#cinema-admin-notice")
    await notice.wait_for()
    assert await notice.get_attribute("role") == "alert"
    assert "Your role may not view users." in await notice.inner_text()
    await page.screenshot(path=str(SCREENSHOTS / "admin-moderator-refused-table.png"))

    # Moving on to a table they may open clears it.
    await page.goto(f"{server.url}/admin/#/movies")
    await page.locator("h1", has_text="Movies").first.wait_for()
    assert await notice.count() == 0
    await context.close()


@pytest.fixture(scope="module")
def stripe_stack() -> Iterator[StripeStack]:
    with run_stripe_stack("cinema-admin-browser-") as running:
        yield running


async def test_an_admin_approves_a_refund_and_stripe_refunds_it(browser, make_user, stripe_stack) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    stack = stripe_stack
    admin = await make_user(group=GroupName.ADMIN)
    buyer = await make_user()
    movie_id = await make_movie(name="Heat", price="14.20")
    async with httpx.AsyncClient(base_url=stack.app_base, timeout=30) as api:
        added = await api.post("/cart/items", json={"movie_id": movie_id}, headers=buyer.headers)
        assert added.status_code == 201, added.text
        order = (await api.post("/orders/", headers=buyer.headers)).json()["order"]
        payment = (await api.post(f"/payments/{order['id']}", headers=buyer.headers)).json()
        intent_id = payment["external_payment_id"]
        await confirm(stack, intent_id, "pm_card_visa")

        async def owned() -> bool:
            mine = await api.get("/purchases", headers=buyer.headers)
            return [m["id"] for m in mine.json()["items"]] == [movie_id]

        await eventually(owned, "the webhook to pay the order")
        asked = await api.post(
            f"/orders/{order['id']}/refund", json={"reason": "Bought twice"}, headers=buyer.headers
        )
        assert asked.status_code == 202, asked.text
        request_id = asked.json()["id"]

        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await _sign_in(page, stack.app_base, admin.email, admin.password)
        await page.wait_for_selector("[data-uitest=nav_dropdown_button]")
        # The user edit form saves as it is (every field posted back; the password left empty).
        await page.goto(f"{stack.app_base}/admin/#/users/{buyer.id}/")
        await page.wait_for_function(
            f"document.querySelector('input[name=email]')?.value === '{buyer.email}'"
        )
        await page.click("form button:has-text('Save')")
        await page.wait_for_selector("text=Successfully saved row")
        await page.goto(f"{stack.app_base}/admin/#/")
        await page.locator("a", has_text="Approve refund").first.click()
        field = page.locator("input[name=refund_request_id]")
        await field.wait_for()
        await field.fill(str(request_id))
        await page.click("form button:has-text('Submit')")
        await page.locator("text=approved").first.wait_for()
        await page.screenshot(path=str(SCREENSHOTS / "admin-refund-approved.png"), full_page=True)
        assert (
            f"Refund request #{request_id} approved: order #{order['id']} refunded"
            in await page.inner_text("body")
        )
        assert errors == []
        await context.close()

        assert (await api.get("/purchases", headers=buyer.headers)).json()["items"] == []
        paid = await api.get(f"/payments/{payment['payment_id']}", headers=buyer.headers)
        assert paid.json()["status"] == "refunded"
        assert (await api.get(f"/orders/{order['id']}", headers=buyer.headers)).json()["status"] == "canceled"
    refunds = (await stack.stripe().v1.refunds.list_async({"limit": 100})).data
    assert [(r.amount, r.status) for r in refunds if r.payment_intent == intent_id] == [(1420, "succeeded")]
