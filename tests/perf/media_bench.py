"""The benchmark's media part (`--parts media`): playback URL issuance and local ranged streaming.

- **Issuance**: wrk on `GET /movies/{id}/playback` with a buyer's token, on the
  product and on the baseline's `/movies/{id}/playback`, which verifies the
  same token, runs the same checks (session, active user, purchase, ready
  feature, progress) in ONE statement and signs the same HMAC URL. The bar
  (docs/media.md) is product >= 0.8x the baseline's requests/s.
- **Streaming**: 64 concurrent viewers, each on its own keep-alive connection,
  repeatedly read a random 1 MiB range of one file for the run's duration:
  aggregate MB/s and time-to-first-byte p50/p99, for the product's signed
  local URL and for nginx (Debian's package, started here on a loopback port,
  `sendfile on`) serving the same file. The floor is >= 100 MB/s with p99
  TTFB <= 100 ms; the ratio to nginx is the figure to improve.

The file is a 24-second 720p H.264 noise video (about 45 MB), made with PyAV
and attached through the product's CLI (`cinema movies media upload`).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.perf import load

VIEWERS = 64
RANGE_BYTES = 1024 * 1024
FLOOR_MB_S = 100.0
FLOOR_TTFB_P99_MS = 100.0
ISSUANCE_BAR = 0.8

NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    types {{ video/mp4 mp4; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def make_video(folder: Path) -> Path:
    """The benchmark's video (a few seconds to encode)."""
    from cinema.media.samples import write_sample

    return write_sample(
        folder / "bench.mp4",
        seconds=24,
        fps=1,
        width=1280,
        height=720,
        container="mp4",
        encoders=("libx264", None),
        bit_rate=600_000_000,
        noise=True,
    )


async def _buy(url: str, token: str, movie_id: int) -> None:
    """The buyer buys the movie through the API (cart, order, sandbox payment)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=60.0, headers=headers) as http:
        await http.post("/cart/items", json={"movie_id": movie_id})
        order = (await http.post("/orders")).json()
        if "order" not in order:
            return  # bought already (a reused database)
        payment = (await http.post(f"/payments/{order['order']['id']}")).json()["payment_id"]
        done = await http.post(f"/payments/{payment}/sandbox/succeed")
        if done.status_code >= 400:
            raise RuntimeError(f"sandbox payment failed: {done.status_code} {done.text[:300]}")


async def _viewer(
    host: str, port: int, target: str, size: int, deadline: float, ttfb: list[float], sent: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    rng = random.Random()
    try:
        while time.perf_counter() < deadline:
            start = rng.randrange(0, size - RANGE_BYTES)
            request = (
                f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Range: bytes={start}-{start + RANGE_BYTES - 1}\r\n\r\n"
            ).encode()
            began = time.perf_counter()
            writer.write(request)
            await writer.drain()
            first = await reader.readexactly(1)
            ttfb.append(time.perf_counter() - began)
            head = first + await reader.readuntil(b"\r\n\r\n")
            status = head.split(b" ", 2)[1]
            if status != b"206":
                raise RuntimeError(f"expected 206, got {head[:200]!r}")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            sent.append(length)
    finally:
        writer.close()


async def stream(url: str, size: int, duration: float) -> dict[str, Any]:
    """64 viewers reading random 1 MiB ranges of `url` for `duration` seconds."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    ttfb: list[float] = []
    sent: list[int] = []
    # Warm-up: the page cache and the server's first requests.
    await asyncio.gather(
        *(_viewer(host, port, target, size, time.perf_counter() + 1.0, [], []) for _ in range(8))
    )
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(_viewer(host, port, target, size, deadline, ttfb, sent) for _ in range(VIEWERS)))
    seconds = time.perf_counter() - started
    mb_s = sum(sent) / seconds / 1e6
    p50 = load.percentile(ttfb, 50) * 1000
    p99 = load.percentile(ttfb, 99) * 1000
    return {
        "viewers": VIEWERS,
        "range_bytes": RANGE_BYTES,
        "requests": len(sent),
        "mb_per_s": round(mb_s, 1),
        "ttfb_p50_ms": round(p50, 2),
        "ttfb_p99_ms": round(p99, 2),
    }


def start_nginx(root: Path, workdir: Path, port: int) -> subprocess.Popen[bytes]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise RuntimeError("nginx is missing: apt-get install nginx-light (Debian)")
    folder = Path(tempfile.mkdtemp(prefix="nginx-", dir=workdir))
    conf = folder / "nginx.conf"
    # As root, nginx's workers would drop to `nobody`, who cannot read the private work folder.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(user=user, dir=folder, port=port, root=root))
    return subprocess.Popen(  # noqa: S603 - the system's nginx, our config
        [nginx, "-c", str(conf), "-p", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )


async def _wait_http(url: str, limit_s: float = 15.0) -> None:
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient(timeout=2.0) as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(url, headers={"Range": "bytes=0-0"})).status_code == 206:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {limit_s}s")


async def measure(
    product: Any,
    baseline: Any,
    env: dict[str, str],
    workdir: Path,
    token: str,
    movie_id: int,
    opts: Any,
    run_cli: Any,
    free_port: Any,
) -> dict[str, Any]:
    """Attach a feature, buy it, then measure issuance (product vs baseline) and streaming (vs nginx)."""
    video = make_video(workdir)
    run_cli(
        ["movies", "media", "upload", str(movie_id), str(video), "--kind", "feature", "--json"],
        env,
        what="media upload",
    )
    await _buy(product.url, token, movie_id)
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/movies/{movie_id}/playback"
    async with httpx.AsyncClient(timeout=30.0, headers=headers) as http:
        mine = await http.get(product.url + path)
        theirs = await http.get(baseline.url + path)
    if mine.status_code != 200 or theirs.status_code != 200:
        raise RuntimeError(
            f"playback: product {mine.status_code} {mine.text[:200]}, baseline {theirs.text[:200]}"
        )
    same_keys = sorted(mine.json()) == sorted(theirs.json())

    common: dict[str, Any] = {"connections": opts.connections, "threads": opts.threads, "headers": headers}
    results: dict[str, Any] = {}
    for name, server in (("product", product), ("baseline", baseline)):
        if opts.warmup > 0:
            await load.run_wrk(server.url, [path], duration=opts.warmup, **common)
        result = await load.run_wrk(
            server.url, [path], duration=opts.duration, server_pid=server.process.pid, **common
        )
        results[name] = result
    # Reference: the cart, authenticated the same way (the stack's cost without media).
    for name, server in (("product_cart", product), ("baseline_cart", baseline)):
        results[name] = await load.run_wrk(server.url, ["/cart"], duration=opts.duration, **common)
    ratio = results["product"].rps / results["baseline"].rps if results["baseline"].rps else None
    cart_ratio = (
        results["product_cart"].rps / results["baseline_cart"].rps if results["baseline_cart"].rps else None
    )
    issuance = {
        "path": path,
        "same_fields": same_keys,
        "product_rps": round(results["product"].rps, 1),
        "baseline_rps": round(results["baseline"].rps, 1),
        "product_p99_ms": results["product"].p99_ms,
        "baseline_p99_ms": results["baseline"].p99_ms,
        "ratio": None if ratio is None else round(ratio, 3),
        "cart_ratio_reference": None if cart_ratio is None else round(cart_ratio, 3),
        "product_cart_rps": round(results["product_cart"].rps, 1),
        "baseline_cart_rps": round(results["baseline_cart"].rps, 1),
        "bar": ISSUANCE_BAR,
        "pass": None if ratio is None else ratio >= ISSUANCE_BAR,
    }

    # The signature does not cover the host: point the URL at this run's server.
    signed = urlsplit(mine.json()["url"])
    url = f"{product.url}{signed.path}?{signed.query}"
    size = video.stat().st_size
    served = await stream(url, size, opts.duration)
    port = free_port()
    root = video.parent
    nginx = start_nginx(root, workdir, port)
    try:
        nginx_url = f"http://127.0.0.1:{port}/{video.name}"
        await _wait_http(nginx_url)
        reference = await stream(nginx_url, size, opts.duration)
    finally:
        nginx.terminate()
        nginx.wait(10)
    streaming = {
        "file_bytes": size,
        "product": served,
        "nginx": reference,
        "ratio_mb_s": round(served["mb_per_s"] / reference["mb_per_s"], 3) if reference["mb_per_s"] else None,
        "floor": {"mb_per_s": FLOOR_MB_S, "ttfb_p99_ms": FLOOR_TTFB_P99_MS},
        "pass": served["mb_per_s"] >= FLOOR_MB_S and served["ttfb_p99_ms"] <= FLOOR_TTFB_P99_MS,
    }
    return {"issuance": issuance, "streaming": streaming}
