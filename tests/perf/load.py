"""Load drivers: `wrk` for the read endpoints, an httpx/asyncio client for the write paths.

- `run_wrk`: a fixed-duration, fixed-connection `wrk --latency` run against
  one or more paths (several paths are requested round-robin through a small
  Lua script); returns requests/s, p50 and p99 (wrk's HdrHistogram, corrected
  for coordinated omission), the request count and every error wrk counted.
- `purchase_flows`: complete purchases (add to cart, create order, create
  payment, sandbox `succeed` event) by many users at a fixed concurrency.
- `login_bursts`: bursts of N concurrent `POST /accounts/login`, repeated
  until told to stop (to measure what logins do to the catalog's latency).

wrk runs in its own process; the httpx drivers run in the bench's process,
never in a server's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_DURATION = re.compile(r"^([\d.]+)(us|ms|s|m|h)$")


class WrkMissing(RuntimeError):
    """`wrk` is not installed and could not be installed."""


def ensure_wrk() -> str:
    """The path of `wrk`, installing the Debian package when missing and running as root.

    Raises WrkMissing with the command to run otherwise.
    """
    found = shutil.which("wrk")
    if found:
        return found
    if os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "wrk"],  # noqa: S607
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        found = shutil.which("wrk")
        if found:
            return found
    raise WrkMissing("wrk is not installed: run `sudo apt-get install -y wrk` (Debian/Ubuntu) and retry.")


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds used so far by process `pid` (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class LoadResult:
    """One measured load run. Latencies in milliseconds.

    `server_cpu_ms_per_request`: CPU time the server process spent per answered
    request during the run (less sensitive than rps to other load on a shared
    machine; None when not measured).
    """

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    seconds: float
    errors: int = 0
    non_2xx: int = 0
    server_cpu_ms_per_request: float | None = None

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.non_2xx == 0 and self.requests > 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def median_of(results: Sequence[LoadResult]) -> LoadResult:
    """One result from several runs: the median of each figure, the sums of the counts."""
    if len(results) == 1:
        return results[0]
    cpus = [r.server_cpu_ms_per_request for r in results if r.server_cpu_ms_per_request is not None]
    return LoadResult(
        rps=round(statistics.median(r.rps for r in results), 2),
        p50_ms=round(statistics.median(r.p50_ms for r in results), 2),
        p99_ms=round(statistics.median(r.p99_ms for r in results), 2),
        requests=sum(r.requests for r in results),
        seconds=round(sum(r.seconds for r in results), 2),
        errors=sum(r.errors for r in results),
        non_2xx=sum(r.non_2xx for r in results),
        server_cpu_ms_per_request=round(statistics.median(cpus), 3) if cpus else None,
    )


def _ms(text: str) -> float:
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"unparseable wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> LoadResult:
    """Read a `wrk --latency` report. Raises ValueError when it has no figures."""
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", output, re.MULTILINE))
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in ([\d.]+\w+)", output, re.MULTILINE)
    if rps is None or total is None or "50" not in percentiles or "99" not in percentiles:
        raise ValueError(f"not a wrk --latency report:\n{output}")
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return LoadResult(
        rps=float(rps.group(1)),
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        requests=int(total.group(1)),
        seconds=_ms(total.group(2)) / 1000,
        errors=sum(int(g) for g in socket.groups()) if socket else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


_ROUND_ROBIN = """
local paths = {%s}
local i = 0
function init(args)
  i = math.random(#paths)
end
function request()
  i = i %% #paths + 1
  return wrk.format(nil, paths[i])
end
"""


async def run_wrk(
    base_url: str,
    paths: Sequence[str],
    *,
    duration: float,
    connections: int,
    threads: int = 2,
    headers: dict[str, str] | None = None,
    request_timeout: float = 10.0,
    server_pid: int | None = None,
) -> LoadResult:
    """Drive `paths` (round-robin when several) on `base_url` for `duration` seconds.

    With `server_pid`, also measures the server's CPU time per request.
    Raises RuntimeError when wrk fails or prints no report.
    """
    wrk = ensure_wrk()
    args = [
        wrk,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={round(request_timeout)}s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    script: Path | None = None
    if len(paths) > 1:
        fd, name = tempfile.mkstemp(prefix="bench-", suffix=".lua")
        os.close(fd)
        script = Path(name)
        quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
        script.write_text(_ROUND_ROBIN % quoted)
        args += ["-s", str(script)]
    args.append(base_url.rstrip("/") + paths[0])
    cpu_before = process_cpu_seconds(server_pid) if server_pid else None
    try:
        proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await proc.communicate()
    finally:
        if script is not None:
            script.unlink(missing_ok=True)
    cpu_after = process_cpu_seconds(server_pid) if server_pid else None
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.decode(errors='replace')}")
    result = parse_wrk(out.decode())
    if cpu_before is not None and cpu_after is not None and result.requests:
        result.server_cpu_ms_per_request = round((cpu_after - cpu_before) * 1000 / result.requests, 3)
    return result


# --- the purchase path ------------------------------------------------------


@dataclass
class Buyer:
    """A pre-created user (its access token), the movie it will buy or rent, and which (`offer`)."""

    token: str
    movie_id: int
    offer: str = "buy"


STEPS = ("add_to_cart", "create_order", "create_payment", "succeed")


@dataclass
class FlowResult:
    """`flows` complete purchases at `concurrency`; per-step latencies in ms."""

    flows: int
    failed: int
    seconds: float
    concurrency: int
    flows_per_s: float
    step_p50_ms: dict[str, float] = field(default_factory=dict)
    step_p99_ms: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.flows > 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "errors": self.errors[:5], "ok": self.ok}


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0..100) by the nearest-rank method; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class FlowError(RuntimeError):
    pass


async def _flow(http: httpx.AsyncClient, buyer: Buyer, timings: dict[str, list[float]]) -> None:
    headers = {"Authorization": f"Bearer {buyer.token}"}

    async def step(name: str, path: str, expected: int, body: dict[str, Any] | None = None) -> Any:
        started = time.perf_counter()
        response = await http.post(path, json=body, headers=headers)
        timings[name].append((time.perf_counter() - started) * 1000)
        if response.status_code != expected:
            raise FlowError(f"{name}: {response.status_code} {response.text[:200]}")
        return response.json()

    await step("add_to_cart", "/cart/items", 201, {"movie_id": buyer.movie_id, "offer": buyer.offer})
    created = await step("create_order", "/orders/", 201)
    payment = await step("create_payment", f"/payments/{created['order']['id']}", 201)
    await step("succeed", f"/payments/{payment['payment_id']}/sandbox/succeed", 200)


async def purchase_flows(base_url: str, buyers: Sequence[Buyer], *, concurrency: int) -> FlowResult:
    """Run one complete purchase per buyer, `concurrency` at a time; the rate of complete flows."""
    timings: dict[str, list[float]] = {name: [] for name in STEPS}
    errors: list[str] = []
    queue: asyncio.Queue[Buyer] = asyncio.Queue()
    for buyer in buyers:
        queue.put_nowait(buyer)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as http:

        async def worker() -> None:
            while not queue.empty():
                buyer = queue.get_nowait()
                try:
                    await _flow(http, buyer, timings)
                except (FlowError, httpx.HTTPError, KeyError, ValueError) as exc:
                    errors.append(str(exc) or type(exc).__name__)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    done = len(buyers) - len(errors)
    return FlowResult(
        flows=done,
        failed=len(errors),
        seconds=round(seconds, 3),
        concurrency=concurrency,
        flows_per_s=round(done / seconds, 2) if seconds else 0.0,
        step_p50_ms={k: round(percentile(v, 50), 2) for k, v in timings.items()},
        step_p99_ms={k: round(percentile(v, 99), 2) for k, v in timings.items()},
        errors=errors,
    )


# --- login bursts -------------------------------------------------------------


@dataclass
class BurstResult:
    """Bursts of `size` concurrent logins sent while another load ran."""

    bursts: int
    size: int
    logins: int
    failed: int
    burst_seconds_p50: float
    login_p50_ms: float
    login_p99_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def login_bursts(
    base_url: str,
    credentials: Sequence[tuple[str, str]],
    stop: asyncio.Event,
    *,
    size: int = 20,
    pause: float = 0.5,
    start_after: float = 0.0,
) -> BurstResult:
    """Send bursts of `size` concurrent logins (one per credential) until `stop` is set.

    Each burst starts `pause` seconds after the previous one finished; the first
    after `start_after` seconds.
    """
    logins: list[float] = []
    burst_times: list[float] = []
    failed = 0
    bursts = 0
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120.0) as http:

        async def login(email: str, password: str) -> bool:
            started = time.perf_counter()
            try:
                response = await http.post("/accounts/login", json={"email": email, "password": password})
            except httpx.HTTPError:
                return False
            logins.append((time.perf_counter() - started) * 1000)
            return response.status_code == 200 and "access_token" in response.json()

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), start_after)
        while not stop.is_set():
            started = time.perf_counter()
            results = await asyncio.gather(*(login(e, p) for e, p in credentials[:size]))
            burst_times.append(time.perf_counter() - started)
            failed += results.count(False)
            bursts += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
    return BurstResult(
        bursts=bursts,
        size=size,
        logins=len(logins),
        failed=failed,
        burst_seconds_p50=round(statistics.median(burst_times), 3) if burst_times else 0.0,
        login_p50_ms=round(percentile(logins, 50), 2),
        login_p99_ms=round(percentile(logins, 99), 2),
    )
