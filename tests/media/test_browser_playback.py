"""Real playback in a browser: Debian's Chromium (headless, Playwright) plays a signed URL.

The app runs in uvicorn on loopback (local media, the suite's database). A
page whose `<video>` points at the buyer's signed playback URL plays (the
element reaches HAVE_FUTURE_DATA and its clock advances); seeking far ahead
is served by a Range request answered 206; a tampered or an expired URL fails
to load (403). WebM (VP9/Opus): Debian's Chromium has no H.264 decoder.
Skips when Chromium or Playwright is missing, unless CINEMA_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cinema.clock import utcnow
from cinema.media import signing
from cinema.media.samples import write_sample
from cinema.media.tables import MediaKind
from tests.media.conftest import buy, make_movie
from tests.ops.test_admin_browser import SCREENSHOTS

#: Seconds of the browser's sample: a few MB (noise does not compress). The browser's
#: download is throttled (DevTools network emulation) below what the file holds, so a
#: seek near the end asks for bytes the first response has not delivered yet: a new
#: Range request (on a bare loopback the whole file would already be in socket buffers).
SECONDS = 40.0
THROTTLE_BYTES_PER_SECOND = 400 * 1024


@pytest.fixture(scope="module")
def big_sample() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cinema-browser-media-"))
    return write_sample(
        folder / "noise.webm",
        seconds=SECONDS,
        fps=2,
        keyframe_every=2,
        bit_rate=40_000_000,
        noise=True,
        audio=False,
    )


def _on_server(url: str, server_url: str) -> str:
    """The signed URL with the test server's address (the signature does not cover the host)."""
    parsed = httpx.URL(url)
    return server_url + parsed.raw_path.decode()


PAGE = """<!doctype html><html><body>
<video id="v" muted playsinline preload="metadata" width="320" height="180"></video>
</body></html>"""


async def _open(chromium: Any, origin: str, src: str) -> tuple[Any, Any, list[dict[str, Any]]]:
    context = await chromium.new_context()
    page = await context.new_page()
    seen: list[dict[str, Any]] = []

    def record(response: Any) -> None:
        if "/media-stream/" in response.url:
            seen.append({"status": response.status, "range": response.request.headers.get("range")})

    page.on("response", record)
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": THROTTLE_BYTES_PER_SECOND,
            "uploadThroughput": -1,
        },
    )
    # A page of the app's own origin (as a player page would be): a cross-origin error
    # body would be blocked by the browser (ORB) before the test could see its status.
    await page.goto(f"{origin}/health")
    await page.set_content(PAGE)
    await page.evaluate("src => { document.getElementById('v').src = src; }", src)
    return context, page, seen


async def test_a_buyer_plays_seeks_and_a_tampered_url_fails(
    browser, serve, make_user, attach, big_sample
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    buyer = await make_user()
    movie = await make_movie()
    await attach(movie, MediaKind.FEATURE, big_sample)
    await buy(buyer.id, movie)
    server = serve()
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.get(f"/movies/{movie}/playback", headers=buyer.headers)
        assert answer.status_code == 200, answer.text
        stranger = await make_user()
        assert (await http.get(f"/movies/{movie}/playback", headers=stranger.headers)).status_code == 403
    src = _on_server(answer.json()["url"], server.url)

    context, page, seen = await _open(browser, server.url, src)
    await page.evaluate("document.getElementById('v').play()")
    await page.wait_for_function("document.getElementById('v').readyState >= 3", timeout=20_000)
    start = await page.evaluate("document.getElementById('v').currentTime")
    await page.wait_for_function(f"document.getElementById('v').currentTime > {start} + 0.3", timeout=20_000)
    assert await page.evaluate("document.getElementById('v').error") is None
    await page.screenshot(path=str(SCREENSHOTS / "media-playing.png"))

    before = len(seen)
    await page.evaluate(f"document.getElementById('v').currentTime = {SECONDS - 1.5}")
    await page.wait_for_function("!document.getElementById('v').seeking", timeout=20_000)
    await page.wait_for_function(
        f"document.getElementById('v').currentTime >= {SECONDS - 1.5}", timeout=20_000
    )
    await asyncio.sleep(0.2)
    ranged = [r for r in seen[before:] if r.get("range") and not r["range"].startswith("bytes=0-")]
    assert ranged, seen
    assert all(r["status"] == 206 for r in ranged)
    await context.close()

    # A tampered signature and an expired URL: the element reports an error, the server said 403.
    parsed = httpx.URL(src)
    params = dict(parsed.params)
    flipped = ("A" if params["signature"][0] != "A" else "B") + params["signature"][1:]
    key = parsed.path.removeprefix("/media-stream/")
    past = int((utcnow() - timedelta(seconds=1)).timestamp())
    for bad in (
        str(parsed.copy_merge_params({"signature": flipped})),
        str(
            parsed.copy_merge_params(
                {"expires": str(past), "signature": signing.sign("get", key, buyer.id, past)}
            )
        ),
    ):
        context, page, seen = await _open(browser, server.url, bad)
        await page.wait_for_function("document.getElementById('v').error !== null", timeout=20_000)
        assert await page.evaluate("document.getElementById('v').readyState") == 0
        assert await page.evaluate("document.getElementById('v').error.code") == 4  # SRC_NOT_SUPPORTED
        assert seen
        assert all(r["status"] == 403 for r in seen)
        await context.close()
