"""Fixtures for the operator surfaces: a real uvicorn process, a cuttable TCP proxy, moto's S3 server.

- `serve(**env)` starts `uvicorn --factory cinema.api.app:create_app` in a
  subprocess on a free loopback port (the test process's environment plus
  `env`) and waits for `/health`; it is stopped after the test.
- `TcpProxy` forwards a loopback port to another address; `cut()` closes every
  open connection and stops listening (new connections are refused),
  `restore()` listens again on the same port. It stands between the app and
  PostgreSQL to simulate an outage without touching the real server.
- `moto_s3` runs moto's S3 server in a thread on a free port and points
  `S3_*` at it, with the bucket created.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from cinema.accounts.tables import UserGroup
from cinema.catalog.tables import Certification, Movie
from cinema.config import get_settings
from cinema.piccolo_app import TABLES
from tests.conftest import IS_POSTGRES, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
async def _empty_tables_children_first() -> AsyncIterator[None]:
    """Children-first cleanup on SQLite (see tests/commerce/conftest.py for why)."""
    yield
    if IS_POSTGRES:
        return
    for table in reversed(TABLES):
        if table is not UserGroup:
            await table.delete(force=True).run()


async def make_movie(name: str = "Heat", price: str = "9.99", year: int = 1995) -> int:
    """Insert a movie (and its certification) straight into the tables; returns its id."""
    cert = await Certification.select(Certification.id).where(Certification.name == "R").first().run()
    if cert is None:
        row = Certification(name="R")
        await row.save()
        cert_id = int(row.id)
    else:
        cert_id = int(cert["id"])
    movie = Movie(
        name=name,
        year=year,
        time=170,
        imdb=8.3,
        votes=600000,
        description="A crime saga.",
        price=Decimal(price),
        certification=cert_id,
    )
    await movie.save()
    return int(movie.id)


@dataclass
class Server:
    """A uvicorn subprocess serving the app; `log()` is what it wrote to stderr so far."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_http(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer /health in {timeout} s:\n{log_path.read_text()[-4000:]}")


def start_server(folder: Path, **env: str) -> Server:
    """Start uvicorn serving the app (this process's environment plus `env`); waits for /health."""
    port = free_port()
    log_path = folder / f"uvicorn-{port}.log"
    full_env = {**os.environ, **env}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "cinema.api.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        _wait_http(server.url, process, log_path)
    except RuntimeError:
        stop_server(server)
        raise
    return server


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Factory: `serve(DATABASE_URL=...)` -> a running `Server` (stopped after the test)."""
    started: list[Server] = []

    def start(**env: str) -> Server:
        server = start_server(tmp_path, **env)
        started.append(server)
        return server

    yield start
    for server in started:
        stop_server(server)


@dataclass
class TcpProxy:
    """A loopback TCP forwarder that can be cut (connections dropped, port closed) and restored."""

    target: tuple[str, int]
    port: int = field(default_factory=free_port)
    _server: socket.socket | None = None
    _conns: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        self._stopping.clear()
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Refuse new connections and drop the open ones (like a database that went away)."""
        self._stopping.set()
        if self._server is not None:
            # shutdown() first: close() alone does not wake a thread blocked in
            # accept() on Linux, and the socket would keep listening.
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)
            self._server.close()
            self._server = None
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self.start()


@pytest.fixture
def tcp_proxy() -> Iterator[Callable[[str, int], TcpProxy]]:
    proxies: list[TcpProxy] = []

    def make(host: str, port: int) -> TcpProxy:
        proxy = TcpProxy(target=(host, port))
        proxy.start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.cut()


@dataclass
class MotoS3:
    endpoint_url: str
    bucket: str
    access_key: str = "testing-access"
    secret_key: str = "testing-secret"
    region: str = "us-east-1"

    def client(self) -> Any:
        import aioboto3

        return aioboto3.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    async def keys(self) -> list[str]:
        async with self.client() as s3:
            listing = await s3.list_objects_v2(Bucket=self.bucket)
            return sorted(item["Key"] for item in listing.get("Contents", []))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's S3 server (real HTTP, S3 protocol) on a free loopback port, for the whole run."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
async def moto_s3(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MotoS3]:
    """A fresh bucket on the moto server, with `S3_*` settings pointing at it."""
    s3 = MotoS3(endpoint_url=moto_server, bucket=f"avatars-{os.urandom(4).hex()}")
    for name, value in {
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "S3_BUCKET": s3.bucket,
        "S3_ACCESS_KEY": s3.access_key,
        "S3_SECRET_KEY": s3.secret_key,
        "S3_REGION": s3.region,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    async with s3.client() as client:
        await client.create_bucket(Bucket=s3.bucket)
    yield s3
    get_settings.cache_clear()


async def wait_until(predicate: Callable[[], Any], within: float = 15.0, interval: float = 0.1) -> Any:
    """Poll `predicate()` (sync or async) until it returns a truthy value; that value, or the last."""
    deadline = asyncio.get_running_loop().time() + within
    value: Any = None
    while asyncio.get_running_loop().time() < deadline:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(interval)
    return value
