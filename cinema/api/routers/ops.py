"""Liveness and readiness probes: `GET /health`, `GET /ready` (unauthenticated, cheap).

`/health` answers 200 while the process can serve HTTP; it touches nothing.
`/ready` runs `SELECT 1` on the database and, when `REDIS_URL` is set, a Redis
`PING`, each bounded by `PROBE_TIMEOUT_SECONDS`; 200 when all pass, else 503
naming the failed checks (for load balancers and compose healthchecks).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cinema.config import get_settings
from cinema.db import engine

router = APIRouter(tags=["ops"])
log = logging.getLogger("cinema.ops")

PROBE_TIMEOUT_SECONDS = 2.0

CheckState = Literal["ok", "failed", "skipped"]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """`status` is `ok` when every configured check passed; `checks` maps each check to its state."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, CheckState]
    failed: list[str] = []


async def _check_database() -> CheckState:
    try:
        await asyncio.wait_for(engine().run_ddl("SELECT 1"), PROBE_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("readiness: database check failed: %s", type(exc).__name__)
        return "failed"
    return "ok"


async def _check_redis(url: str | None) -> CheckState:
    if not url:
        return "skipped"
    from redis.asyncio import Redis

    client = Redis.from_url(
        url, socket_connect_timeout=PROBE_TIMEOUT_SECONDS, socket_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        await asyncio.wait_for(client.ping(), PROBE_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("readiness: redis check failed: %s", type(exc).__name__)
        return "failed"
    finally:
        await client.aclose()
    return "ok"


@router.get("/health", summary="Liveness probe", response_model=Health)
async def health() -> Health:
    """200 `{"status": "ok"}` whenever the process answers HTTP."""
    return Health()


@router.get(
    "/ready",
    summary="Readiness probe",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A backing service is unreachable."}},
)
async def ready() -> JSONResponse:
    """200 when the database (and Redis, when configured) answer; 503 listing what failed."""
    database, redis = await asyncio.gather(_check_database(), _check_redis(get_settings().redis_url))
    checks: dict[str, CheckState] = {"database": database, "redis": redis}
    failed = [name for name, state in checks.items() if state == "failed"]
    body = Readiness(status="unavailable" if failed else "ok", checks=checks, failed=failed)
    return JSONResponse(body.model_dump(), status_code=503 if failed else 200)
