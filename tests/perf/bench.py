"""The benchmark of issue 7: `python -m tests.perf.bench [--sizes 1000,100000] [--duration 10]`.

For each catalog size, on a database of its own (`cinema_bench_1k`,
`cinema_bench_100k`; another prefix with `--db-prefix`), dropped and created
afresh on the PostgreSQL server of `--pg-url`, dropped again at the end unless
`--keep-db`:

1. builds the catalog through the product's importer, timed: `cinema movies
   import FILE --json` in a subprocess with `DATABASE_URL` set (the real IMDb
   Top 1000, or N rows generated from it by `tests.perf.datagen` into a temp
   file), then VACUUM ANALYZE (what autovacuum would do a minute later, done now
   so it cannot start in the middle of a measurement); then users, a cart and
   tokens through the product's services (`tests.perf.fixtures`);
2. starts the product (`uvicorn --factory cinema.api.app:create_app`, one
   worker, uvloop + httptools, no access log) and the baseline
   (`tests.perf.baseline`, same uvicorn flags), and checks that both answer
   every benchmarked URL with the same JSON;
3. drives each read endpoint with `wrk --latency` (same connections, threads,
   warm-up and duration for both apps, product then baseline back to back,
   `--rounds` times alternated): the first page sorted by `-imdb`, a filtered
   page (genre + year range + IMDb minimum), a search for a star's name, movie
   details (100 ids round-robin), and GET /cart with a logged-in user's Bearer
   token; besides wrk's requests/s, p50 and p99, the server process's CPU time
   per request is read from /proc (a figure other load on the machine disturbs
   less than throughput);
4. measures the catalog's first page again, alone and then under repeated
   bursts of 20 concurrent logins (`POST /accounts/login`, bcrypt at the
   product's work factor), after a few warm-up logins;
5. runs complete purchases, then complete rentals (add to cart, create order, create payment with the
   sandbox gateway, sandbox `succeed` event) with httpx/asyncio: one user per
   flow, fixed concurrency, fixed count, after a warm-up;
6. counts the SQL statements per request of every endpoint and purchase step
   with a second, instrumented server (`tests.perf.counting`).

Prints one Rich table and writes the same figures as JSON (`--json-out`,
default `bench-results/bench.json`). Each row names the bar of issue 7 it
checks and whether it holds. `--parts`, `--reuse-db` and `--product-app`
shorten runs while investigating (see `--help`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import httpx
from rich.console import Console
from rich.table import Table

from tests.perf import datagen, load, media_bench
from tests.perf.fixtures import PASSWORD

REPO = Path(__file__).resolve().parents[2]
console = Console(stderr=True)

#: Issue 7's bars.
BAR_RPS_RATIO = 0.6
BAR_P99_RATIO = 1.5
BAR_SEARCH_COST = 3.0
BAR_BURST_P99 = 2.0
BAR_IMPORT_100K_S = 120.0
JWT_SECRET = "bench-only-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


@dataclass
class Options:
    sizes: list[int]
    duration: float
    warmup: float
    connections: int
    threads: int
    flows: int
    flow_concurrency: int
    burst_size: int
    pg_url: str
    json_out: Path
    keep_db: bool
    db_prefix: str
    reuse_db: bool
    parts: set[str]
    product_app: str
    rounds: int
    seed: int


@dataclass
class Endpoint:
    """A benchmarked read: its name, the paths wrk requests, and whether it needs the cart user's token."""

    key: str
    label: str
    paths: list[str]
    auth: bool = False
    catalog: bool = True


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class SizeRun:
    size: int
    label: str
    database: str
    figures: dict[str, Any] = field(default_factory=dict)


def size_label(size: int) -> str:
    """1000 -> "1k", 100000 -> "100k", 2500 -> "2500"."""
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(pg_url: str, name: str) -> str:
    parts = urlsplit(pg_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def recreate_database(pg_url: str, name: str, *, drop_only: bool = False) -> None:
    conn = await asyncpg.connect(database_url(pg_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def product_env(url: str, workdir: Path) -> dict[str, str]:
    """The environment of every product process: this database, no .env, sandbox payments."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "SMTP_HOST", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "S3_ENDPOINT_URL"}
    }
    env.update(
        {
            "CINEMA_ENV_FILE": "",
            # Not `production`: production refuses the sandbox gateway the purchases use.
            "ENVIRONMENT": "development",
            "PAYMENT_GATEWAY": "sandbox",
            "DATABASE_URL": url,
            "JWT_SECRET_KEY": JWT_SECRET,
            "ACCESS_TOKEN_TTL_MINUTES": "240",
            "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
            "MEDIA_DIR": str(workdir / "media"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def cinema_command() -> list[str]:
    """`cinema` from this interpreter's environment (the console script), else `python -m cli.main`."""
    script = Path(sys.executable).with_name("cinema")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


def run_cli(args: Sequence[str], env: dict[str, str], *, what: str) -> tuple[float, str]:
    """Run a product CLI command; (wall seconds, stdout). Raises RuntimeError when it fails."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [*cinema_command(), *args], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{output[-3000:]}")
    return seconds, done.stdout


def make_fixtures(env: dict[str, str], *, buyers: int, burst: int) -> dict[str, Any]:
    """Run `tests.perf.fixtures` on the database of `env`; its JSON. Raises RuntimeError when it fails."""
    prefix = f"bench{time.time_ns() // 1_000_000}"
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "tests.perf.fixtures",
            "--buyers",
            str(buyers),
            "--burst",
            str(burst),
            "--prefix",
            prefix,
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"fixtures failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def start_server(
    name: str, factory: str, env: dict[str, str], workdir: Path, module: str = "uvicorn"
) -> Server:
    port = free_port()
    log = workdir / f"{name}.log"
    if module == "uvicorn":
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    else:  # the SQL-counting launcher
        args = [sys.executable, "-m", module, factory, "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, port, process, log)


async def wait_ready(server: Server, path: str, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    async with httpx.AsyncClient(base_url=server.url, timeout=5.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(path)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(
        f"{server.name} did not answer {path} within {limit_s}s:\n{server.log.read_text()[-3000:]}"
    )


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


@contextlib.asynccontextmanager
async def serving(
    name: str, factory: str, env: dict[str, str], workdir: Path, ready_path: str, module: str = "uvicorn"
) -> AsyncIterator[Server]:
    server = start_server(name, factory, env, workdir, module)
    try:
        await wait_ready(server, ready_path)
        yield server
    finally:
        stop_server(server)


# --- JSON comparison ----------------------------------------------------------


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    """Where two JSON values differ (`$.items[0].price: '9.99' != '9.990'`), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{path}: keys {sorted(a.keys() ^ b.keys())} differ"
        for key in a:
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if a != b or type(a) is not type(b):
        return f"{path}: {a!r} != {b!r}"
    return None


async def compare(product: Server, baseline: Server, path: str, headers: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30.0, headers=headers) as http:
        a = await http.get(product.url + path)
        b = await http.get(baseline.url + path)
    if a.status_code != 200 or b.status_code != 200:
        return {
            "same_json": False,
            "difference": f"status {a.status_code} vs {b.status_code}: {a.text[:200]}",
        }
    body = a.json()
    difference = first_difference(body, b.json())
    items = len(body["items"]) if isinstance(body, dict) and "items" in body else None
    total = body.get("total") if isinstance(body, dict) else None
    return {"same_json": difference is None, "difference": difference, "items": items, "total": total}


# --- measurements -------------------------------------------------------------


async def measure(
    server: Server, endpoint: Endpoint, opts: Options, headers: dict[str, str]
) -> load.LoadResult:
    """A discarded warm-up run, then the measured run (with the server's CPU time per request)."""
    common: dict[str, Any] = {"connections": opts.connections, "threads": opts.threads, "headers": headers}
    if opts.warmup > 0:
        await load.run_wrk(server.url, endpoint.paths, duration=opts.warmup, **common)
    return await load.run_wrk(
        server.url, endpoint.paths, duration=opts.duration, server_pid=server.process.pid, **common
    )


async def sql_counts(
    server: Server, requests: list[tuple[str, str, dict[str, str], Any]]
) -> list[tuple[dict[str, int], Any]]:
    """`X-Bench-*` counts and JSON body of each (method, path, headers, json) request.

    GET requests are sent three times and the last one counts (the first use of
    a pooled connection also prepares statements and loads type codecs).
    """
    found: list[tuple[dict[str, int], Any]] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=60.0) as http:
        for method, path, headers, body in requests:
            response = None
            for _ in range(3 if method == "GET" else 1):
                response = await http.request(method, path, headers=headers, json=body)
            assert response is not None
            counts = {
                "status": response.status_code,
                **{
                    key: int(response.headers.get(f"x-bench-{key.replace('_', '-')}", -1))
                    for key in ("sql", "tx", "reset", "round_trips")
                },
            }
            is_json = response.headers.get("content-type", "").startswith("application/json")
            found.append((counts, response.json() if is_json else None))
    return found


async def purchase_sql_counts(server: Server, token: str, movie_id: int) -> dict[str, dict[str, int]]:
    """SQL counts of each step of one purchase (by a buyer kept aside for this)."""
    auth = {"Authorization": f"Bearer {token}"}
    steps: dict[str, dict[str, int]] = {}
    [(steps["add_to_cart"], _)] = await sql_counts(
        server, [("POST", "/cart/items", auth, {"movie_id": movie_id})]
    )
    [(steps["create_order"], order)] = await sql_counts(server, [("POST", "/orders/", auth, None)])
    [(steps["create_payment"], payment)] = await sql_counts(
        server, [("POST", f"/payments/{order['order']['id']}", auth, None)]
    )
    [(steps["succeed"], _)] = await sql_counts(
        server, [("POST", f"/payments/{payment['payment_id']}/sandbox/succeed", auth, None)]
    )
    return steps


async def login(url: str, email: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=60.0) as http:
        response = await http.post("/accounts/login", json={"email": email, "password": PASSWORD})
    if response.status_code != 200:
        raise RuntimeError(f"login of {email} failed: {response.status_code} {response.text[:300]}")
    return str(response.json()["access_token"])


def endpoints_for(movies: dict[str, Any]) -> list[Endpoint]:
    star = quote(movies["star"])
    return [
        Endpoint("list", "GET /movies?sort=-imdb (first page)", ["/movies?sort=-imdb"]),
        Endpoint(
            "filtered",
            "GET /movies genre+years+imdb_min",
            [f"/movies?genre_id={movies['genre_id']}&year_from=1990&year_to=2010&imdb_min=7.5&sort=-imdb"],
        ),
        Endpoint("search", f"GET /movies?search={movies['star']}", [f"/movies?search={star}"]),
        Endpoint("detail", "GET /movies/{id} (100 ids)", [f"/movies/{i}" for i in movies["detail_ids"]]),
        Endpoint("cart", "GET /cart (Bearer)", ["/cart"], auth=True, catalog=False),
    ]


async def movie_count(url: str) -> int | None:
    """Movies in the database at `url`, or None when it does not exist or has no schema."""
    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        return int(await conn.fetchval("SELECT count(*) FROM movies"))
    except asyncpg.PostgresError:
        return None
    finally:
        await conn.close()


async def build_catalog(
    size: int, opts: Options, url: str, env: dict[str, str], workdir: Path, figures: dict[str, Any]
) -> None:
    """A fresh database with `size` movies imported by `cinema movies import` (timed), then VACUUM ANALYZE."""
    label = size_label(size)
    database = urlsplit(url).path.lstrip("/")
    await recreate_database(opts.pg_url, database)
    run_cli(["db", "migrate"], env, what="cinema db migrate")
    _, real_rows = datagen.read_source()
    if size == len(real_rows):
        csv_path = datagen.IMDB_CSV
        figures["data"] = {"file": "imdb_top_1000.csv (real)", "generated_s": 0.0}
    else:
        started = time.perf_counter()
        csv_path = datagen.generate(size, workdir / f"movies-{label}.csv", seed=opts.seed)
        figures["data"] = {
            "file": f"generated, seed {opts.seed}",
            "generated_s": round(time.perf_counter() - started, 2),
        }
    console.print(f"importing {size} rows from {csv_path.name} ...")
    seconds, output = run_cli(["movies", "import", str(csv_path), "--json"], env, what="cinema movies import")
    try:
        report: dict[str, Any] = json.loads(output)
    except ValueError:
        report = {"output": output[-600:]}
    report.pop("rejections", None)
    conn = await asyncpg.connect(url)
    try:
        movies_count = int(await conn.fetchval("SELECT count(*) FROM movies"))
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    figures["import"] = {
        "seconds": round(seconds, 2),
        "rows": size,
        "movies_in_db": movies_count,
        "report": report,
        "bar": f"< {BAR_IMPORT_100K_S:.0f} s at 100k" if size >= 100_000 else None,
        "pass": seconds < BAR_IMPORT_100K_S if size >= 100_000 else None,
    }
    console.print(f"import: {seconds:.1f} s, {movies_count} movies in the database")


async def measure_reads(
    product: Server,
    baseline: Server,
    endpoints: list[Endpoint],
    auth: dict[str, str],
    opts: Options,
    size: int,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Product vs baseline on every read endpoint (JSON compared first); (reads, search cost)."""
    reads: dict[str, Any] = {}
    for endpoint in endpoints:
        headers = auth if endpoint.auth else {}
        reads[endpoint.key] = {
            "label": endpoint.label,
            **await compare(product, baseline, endpoint.paths[0], headers),
        }
    if "read" not in opts.parts:
        return reads, None
    for endpoint in endpoints:
        headers = auth if endpoint.auth else {}
        console.print(f"wrk {endpoint.label} ...")
        p_runs: list[load.LoadResult] = []
        b_runs: list[load.LoadResult] = []
        for _ in range(opts.rounds):  # alternated, so drifting background load hits both alike
            p_runs.append(await measure(product, endpoint, opts, headers))
            b_runs.append(await measure(baseline, endpoint, opts, headers))
        p, b = load.median_of(p_runs), load.median_of(b_runs)
        entry = reads[endpoint.key]
        entry["product"], entry["baseline"] = p.as_dict(), b.as_dict()
        if opts.rounds > 1:
            entry["rounds"] = {
                "product": [r.as_dict() for r in p_runs],
                "baseline": [r.as_dict() for r in b_runs],
            }
        entry["rps_ratio"] = round(p.rps / b.rps, 3) if b.rps else None
        entry["p99_ratio"] = round(p.p99_ms / b.p99_ms, 3) if b.p99_ms else None
        # What the rps ratio would be if both servers were CPU-bound on one core.
        pc, bc = p.server_cpu_ms_per_request, b.server_cpu_ms_per_request
        entry["cpu_ratio"] = round(bc / pc, 3) if pc and bc else None
        if endpoint.catalog:
            entry["pass"] = bool(
                p.ok
                and b.ok
                and entry["rps_ratio"] is not None
                and entry["rps_ratio"] >= BAR_RPS_RATIO
                and entry["p99_ratio"] is not None
                and entry["p99_ratio"] <= BAR_P99_RATIO
            )
        console.print(
            f"  product {p.rps:.0f} rps p99 {p.p99_ms:.1f} ms | baseline {b.rps:.0f} rps "
            f"p99 {b.p99_ms:.1f} ms | ratio {entry['rps_ratio']}"
        )
    plain, search = reads["list"]["product"], reads["search"]["product"]
    cost = plain["rps"] / search["rps"] if search["rps"] else None
    search_cost = {
        "rps_cost_ratio": round(cost, 2) if cost else None,
        "p50_ratio": round(search["p50_ms"] / plain["p50_ms"], 2) if plain["p50_ms"] else None,
        "bar": f"<= {BAR_SEARCH_COST:.0f}x a plain first page at 100k" if size >= 100_000 else None,
        "pass": (cost is not None and cost <= BAR_SEARCH_COST) if size >= 100_000 else None,
    }
    return reads, search_cost


async def measure_login_bursts(
    product: Server, catalog: Endpoint, emails: list[str], opts: Options
) -> dict[str, Any]:
    """The catalog's first page alone, then again while bursts of concurrent logins run."""
    console.print(f"catalog first page alone, then with bursts of {opts.burst_size} logins ...")
    credentials = [(email, PASSWORD) for email in emails]
    # The login path is warmed up like the catalog run is: a process's first logins
    # load passlib's bcrypt backend (it self-tests), start the hashing thread and
    # prepare the statements. The bar is about bursts, not about a cold first login.
    async with httpx.AsyncClient(base_url=product.url, timeout=120.0) as http:
        await asyncio.gather(
            *(http.post("/accounts/login", json={"email": e, "password": p}) for e, p in credentials[:4])
        )
    quiet = await measure(product, catalog, opts, {})
    stop = asyncio.Event()
    bursts = asyncio.create_task(
        load.login_bursts(product.url, credentials, stop, size=opts.burst_size, start_after=0.5)
    )
    try:
        loaded = await load.run_wrk(
            product.url,
            catalog.paths,
            duration=opts.duration,
            connections=opts.connections,
            threads=opts.threads,
        )
    finally:
        stop.set()
    burst = await bursts
    ratio = loaded.p99_ms / quiet.p99_ms if quiet.p99_ms else None
    console.print(
        f"  p99 {quiet.p99_ms:.1f} ms alone, {loaded.p99_ms:.1f} ms with {burst.bursts} bursts "
        f"(login p50 {burst.login_p50_ms:.0f} ms)"
    )
    return {
        "quiet": quiet.as_dict(),
        "with_bursts": loaded.as_dict(),
        "bursts": burst.as_dict(),
        "p99_ratio": round(ratio, 2) if ratio else None,
        "pass": bool(ratio is not None and ratio <= BAR_BURST_P99 and burst.failed == 0 and burst.bursts > 0),
    }


async def measure_purchases(
    product: Server, buyers: list[dict[str, Any]], opts: Options, what: str = "purchase"
) -> dict[str, Any]:
    """Complete purchases (or rentals, by each buyer's `offer`): a warm-up of `flow_concurrency`
    flows, then the measured ones.

    The last buyer is kept for the SQL count of the purchase steps.
    """
    all_buyers = [load.Buyer(b["token"], b["movie_id"], b.get("offer", "buy")) for b in buyers]
    warm, measured = all_buyers[: opts.flow_concurrency], all_buyers[opts.flow_concurrency : -1]
    console.print(f"{what} flows: {len(measured)} at concurrency {opts.flow_concurrency} ...")
    await load.purchase_flows(product.url, warm, concurrency=opts.flow_concurrency)
    flows = await load.purchase_flows(product.url, measured, concurrency=opts.flow_concurrency)
    console.print(f"  {flows.flows_per_s} flows/s, {flows.failed} failed")
    return flows.as_dict()


async def count_sql(
    env: dict[str, str],
    workdir: Path,
    endpoints: list[Endpoint],
    fixtures: dict[str, Any],
    figures: dict[str, Any],
) -> None:
    """SQL per request of each read endpoint (product and baseline) and purchase step (product)."""
    console.print("counting SQL per request ...")
    launcher = "tests.perf.counting"
    async with (
        serving("product-counted", "product", env, workdir, "/health", module=launcher) as cp,
        serving("baseline-counted", "baseline", env, workdir, "/movies?per_page=1", module=launcher) as cb,
    ):
        token = await login(cp.url, fixtures["cart"]["email"])
        auth = {"Authorization": f"Bearer {token}"}
        requests = [("GET", e.paths[0], auth if e.auth else {}, None) for e in endpoints]
        product_counts = await sql_counts(cp, requests)
        baseline_counts = await sql_counts(cb, requests)
        for endpoint, (p_count, _), (b_count, _) in zip(
            endpoints, product_counts, baseline_counts, strict=True
        ):
            figures["reads"][endpoint.key]["sql"] = {"product": p_count, "baseline": b_count}
        spare = fixtures["buyers"][-1]
        figures["purchase_sql"] = await purchase_sql_counts(cp, spare["token"], spare["movie_id"])


async def run_size(size: int, opts: Options, workdir: Path) -> SizeRun:
    """Everything measured at one catalog size, on its own database."""
    label = size_label(size)
    run = SizeRun(size, label, f"{opts.db_prefix}_{label}")
    figures = run.figures
    url = database_url(opts.pg_url, run.database)
    env = product_env(url, workdir)
    console.rule(f"[bold]{label} movies[/bold] ({run.database})")

    if opts.reuse_db and await movie_count(url) == size:
        console.print(f"reusing {run.database} ({size} movies; no import measured)")
        figures["import"] = {"reused": True, "rows": size, "movies_in_db": size, "bar": None, "pass": None}
    else:
        await build_catalog(size, opts, url, env, workdir, figures)

    fixtures = make_fixtures(env, buyers=opts.flows + opts.flow_concurrency + 1, burst=opts.burst_size)
    endpoints = endpoints_for(fixtures["movies"])
    figures["targets"] = {
        e.key: e.paths[0] if len(e.paths) == 1 else f"{len(e.paths)} paths" for e in endpoints
    }

    async with (
        serving("product", opts.product_app, env, workdir, "/health") as product,
        serving("baseline", "tests.perf.baseline:create_app", env, workdir, "/movies?per_page=1") as baseline,
    ):
        token = await login(product.url, fixtures["cart"]["email"])
        reads, search_cost = await measure_reads(
            product, baseline, endpoints, {"Authorization": f"Bearer {token}"}, opts, size
        )
        figures["reads"] = reads
        if search_cost:
            figures["search_cost"] = search_cost
        if "burst" in opts.parts:
            figures["login_burst"] = await measure_login_bursts(
                product, endpoints[0], fixtures["burst"], opts
            )
        if "flows" in opts.parts:
            figures["purchase"] = await measure_purchases(product, fixtures["buyers"], opts)
            figures["rental"] = await measure_purchases(product, fixtures["renters"], opts, "rental")
        if "media" in opts.parts:
            viewer = fixtures["buyers"][-1]
            figures["media"] = await media_bench.measure(
                product,
                baseline,
                env,
                workdir,
                str(viewer["token"]),
                int(fixtures["movies"]["detail_id"]),
                opts,
                run_cli,
                free_port,
            )

    if "sql" in opts.parts:
        await count_sql(env, workdir, endpoints, fixtures, figures)

    if not opts.keep_db:
        await recreate_database(opts.pg_url, run.database, drop_only=True)
    return run


# --- report ---------------------------------------------------------------------


def _mark(ok: bool | None) -> str:
    return "" if ok is None else ("[green]PASS[/green]" if ok else "[red]MISS[/red]")


def _sql(entry: dict[str, Any] | None) -> str:
    return f"{entry['sql']} ({entry['round_trips']})" if entry else "-"


def _load(result: dict[str, Any] | None) -> str:
    """`1234 rps` over `p50 3.1 / p99 12.0 ms`."""
    if not result:
        return ""
    flag = "" if result["ok"] else " [red]errors[/red]"
    cpu = result.get("server_cpu_ms_per_request")
    cpu_line = f"\ncpu {cpu:.2f} ms/req" if cpu is not None else ""
    return f"{result['rps']:.0f} rps{flag}\n{result['p50_ms']:.1f} / {result['p99_ms']:.1f}{cpu_line}"


def render(results: dict[str, Any]) -> Table:
    """The one table: a section per size (reads, search cost, login bursts, purchases, import)."""
    meta = results["meta"]
    table = Table(
        title="Cinema benchmarks (issue 7): product vs a Starlette + asyncpg baseline",
        caption=(
            f"wrk: {meta['connections']} connections, {meta['wrk_threads']} threads, {meta['duration']} s per run "
            f"after a {meta['warmup']} s warm-up, median of {meta.get('rounds', 1)} alternated run(s). {meta['cpus']} CPUs shared by the servers, PostgreSQL and wrk; "
            f"load average {meta['loadavg_start']} at start, {meta.get('loadavg_end')} at end.\n"
            "Cells: requests/s; p50 / p99 latency in ms; server process CPU time per request. "
            "Ratios: product / baseline (cpu: baseline CPU per request / product's). "
            "SQL: statements per request (round trips incl. BEGIN/COMMIT and pool resets)."
        ),
    )
    table.add_column("size")
    table.add_column("measure")
    table.add_column("product", justify="right")
    table.add_column("baseline", justify="right")
    table.add_column("rps\nratio", justify="right")
    table.add_column("p99\nratio", justify="right")
    table.add_column("SQL/req\nprod | base")
    table.add_column("bar")
    for label, figures in results["sizes"].items():
        for entry in figures.get("reads", {}).values():
            p, b = entry.get("product"), entry.get("baseline")
            if p is None and entry.get("same_json"):
                continue  # not measured (--parts without read), and nothing to flag
            sql = entry.get("sql", {})
            shape = "" if entry.get("same_json") else "\n[red]JSON differs[/red]"
            ok = entry.get("pass")
            table.add_row(
                label,
                entry["label"] + shape,
                _load(p),
                _load(b),
                (
                    f"{entry['rps_ratio']:.2f}"
                    + (f"\ncpu {entry['cpu_ratio']:.2f}" if entry.get("cpu_ratio") else "")
                )
                if p
                else "",
                f"{entry['p99_ratio']:.2f}" if p else "",
                f"{_sql(sql.get('product'))} | {_sql(sql.get('baseline'))}" if sql else "",
                f"rps >= {BAR_RPS_RATIO}x,\np99 <= {BAR_P99_RATIO}x {_mark(ok)}"
                if ok is not None
                else "(none)",
            )
        search = figures.get("search_cost")
        if search:
            table.add_row(
                label,
                "search vs first page\n(product: cost = 1/rps)",
                f"{search['rps_cost_ratio']}x cost\np50 x{search['p50_ratio']}",
                "",
                "",
                "",
                "",
                f"<= {BAR_SEARCH_COST:.0f}x {_mark(search['pass'])}" if search["bar"] else "(at 100k)",
            )
        burst = figures.get("login_burst")
        if burst:
            q, w, bs = burst["quiet"], burst["with_bursts"], burst["bursts"]
            table.add_row(
                label,
                f"first page with {bs['bursts']} bursts\nof {bs['size']} logins (vs alone)",
                _load(w),
                _load(q),
                "",
                f"{burst['p99_ratio']}",
                f"login p50 {bs['login_p50_ms']:.0f} ms\n{bs['failed']} failed",
                f"p99 <= {BAR_BURST_P99:.0f}x alone\n{_mark(burst['pass'])}",
            )
        for kind in ("purchase", "rental"):
            flows = figures.get(kind)
            if not flows:
                continue
            steps = figures.get("purchase_sql", {}) if kind == "purchase" else {}
            step_sql = "+".join(str(steps[s]["sql"]) for s in load.STEPS if s in steps)
            p50s = "/".join(f"{flows['step_p50_ms'][s]:.0f}" for s in load.STEPS)
            table.add_row(
                label,
                f"{kind} flows, {flows['concurrency']} at once\n(cart, order, payment, succeed)",
                f"{flows['flows_per_s']:.1f} flows/s\np50 {p50s}",
                "",
                "",
                "",
                f"{step_sql}\nper step" if step_sql else "",
                "(none)" if flows["ok"] else f"[red]{flows['failed']} failed[/red]",
            )
        imp = figures.get("import")
        if imp and imp.get("reused"):
            table.add_row(label, "cinema movies import", "not measured", "", "", "", "database reused", "")
        elif imp:
            table.add_row(
                label,
                f"cinema movies import\n({imp['rows']} rows)",
                f"{imp['seconds']:.1f} s wall"
                + (
                    f"\nimporter {imp['report']['seconds']:.1f} s"
                    if "seconds" in imp.get("report", {})
                    else ""
                ),
                "",
                "",
                "",
                f"{imp['movies_in_db']} movies",
                f"< {BAR_IMPORT_100K_S:.0f} s {_mark(imp['pass'])}" if imp["bar"] else "(at 100k)",
            )
        table.add_section()
    return table


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description="Cinema benchmarks (issue 7).")
    parser.add_argument("--sizes", default="1000,100000", help="Catalog sizes, comma-separated.")
    parser.add_argument("--duration", type=float, default=10.0, help="Seconds per measured wrk run.")
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="Seconds of discarded warm-up before each run."
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="Measure each read endpoint this many times, product and baseline alternated; medians are reported.",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    parser.add_argument("--flows", type=int, default=200, help="Purchase flows measured.")
    parser.add_argument("--flow-concurrency", type=int, default=16)
    parser.add_argument("--burst-size", type=int, default=20)
    parser.add_argument(
        "--pg-url", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--json-out", type=Path, default=REPO / "bench-results" / "bench.json")
    parser.add_argument("--keep-db", action="store_true", help="Keep the benchmark databases afterwards.")
    parser.add_argument(
        "--db-prefix",
        default="cinema_bench",
        help="Benchmark databases are PREFIX_1k, PREFIX_100k...: dropped and created afresh (unless --reuse-db).",
    )
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="Use a kept database that already holds the catalog (no import timing); implies --keep-db.",
    )
    parser.add_argument(
        "--parts",
        default="read,burst,flows,sql,media",
        help="Any of read,burst,flows,sql,media (import always runs).",
    )
    parser.add_argument("--seed", type=int, default=7, help="Seed of the generated catalog.")
    parser.add_argument(
        "--product-app",
        default="cinema.api.app:create_app",
        help="The product's app factory for uvicorn (to compare a candidate change; must be importable).",
    )
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,40}", args.db_prefix):
        parser.error("--db-prefix: lower-case letters, digits and _ only (it names databases)")
    return Options(
        sizes=[int(s) for s in args.sizes.split(",") if s.strip()],
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        flows=args.flows,
        flow_concurrency=args.flow_concurrency,
        burst_size=args.burst_size,
        pg_url=args.pg_url,
        json_out=args.json_out,
        keep_db=args.keep_db or args.reuse_db,
        db_prefix=args.db_prefix,
        reuse_db=args.reuse_db,
        product_app=args.product_app,
        rounds=max(1, args.rounds),
        parts={p.strip() for p in args.parts.split(",") if p.strip()},
        seed=args.seed,
    )


def _versions() -> dict[str, str]:
    found: dict[str, str] = {"python": platform.python_version()}
    for package in (
        "uvicorn",
        "uvloop",
        "httptools",
        "starlette",
        "fastapi",
        "asyncpg",
        "piccolo",
        "pydantic",
    ):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[package] = importlib.metadata.version(package)
    with contextlib.suppress(Exception):
        found["wrk"] = subprocess.run(  # noqa: S603
            [load.ensure_wrk(), "-v"], capture_output=True, text=True, check=False
        ).stdout.split("\n")[0]
    with contextlib.suppress(Exception):
        found["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    return found


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        load.ensure_wrk()
    except load.WrkMissing as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    results: dict[str, Any] = {
        "meta": {
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            "duration": opts.duration,
            "warmup": opts.warmup,
            "connections": opts.connections,
            "wrk_threads": opts.threads,
            "rounds": opts.rounds,
            "flows": opts.flows,
            "flow_concurrency": opts.flow_concurrency,
            "burst_size": opts.burst_size,
            "versions": _versions(),
        },
        "sizes": {},
    }
    workdir = Path(tempfile.mkdtemp(prefix="cinema-bench-"))
    failed = True
    try:
        for size in opts.sizes:
            run = asyncio.run(run_size(size, opts, workdir))
            results["sizes"][run.label] = run.figures
        failed = False
    finally:
        results["meta"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        if failed:
            console.print(f"[red]benchmark failed[/red]; server logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        if results["sizes"]:
            opts.json_out.parent.mkdir(parents=True, exist_ok=True)
            opts.json_out.write_text(json.dumps(results, indent=2, default=str))
    out = Console() if sys.stdout.isatty() else Console(width=140)
    out.print(render(results))
    console.print(f"figures written to {opts.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
