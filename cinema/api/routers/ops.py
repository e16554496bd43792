"""Liveness and readiness probes: `GET /health`, `GET /ready` (unauthenticated, cheap).

`/health` answers 200 while the process can serve HTTP; it touches nothing.
`/ready` runs `SELECT 1` on the database, checks that the schema is fully
migrated (every migration in `piccolo_migrations/` is recorded as applied in
Piccolo's `migration` table) and, when `REDIS_URL` is set, sends a Redis
`PING`, each bounded by `PROBE_TIMEOUT_SECONDS`; 200 when all pass, else 503
naming the failed checks (for load balancers and compose healthchecks), so an
API started before `cinema db migrate` gets no traffic.

The schema verdict is kept once it is `ok`: a schema never goes back to
unmigrated under a running process, so later probes skip those queries.
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
from cinema.migrations import pending_migrations

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


#: Set once the schema was seen fully migrated (per process; it cannot become unmigrated again).
_schema_ready = False


def forget_schema_verdict() -> None:
    """Check the schema again on the next probe (tests)."""
    global _schema_ready
    _schema_ready = False


async def _check_schema() -> CheckState:
    global _schema_ready
    if _schema_ready:
        return "ok"
    try:
        pending = await asyncio.wait_for(pending_migrations(), PROBE_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("readiness: schema check failed: %s", type(exc).__name__)
        return "failed"
    if pending:
        log.warning("readiness: %d migration(s) not applied, first %s", len(pending), pending[0])
        return "failed"
    _schema_ready = True
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
    responses={
        503: {
            "model": Readiness,
            "description": "A backing service is unreachable or migrations are pending.",
        }
    },
)
async def ready() -> JSONResponse:
    """200 when the database answers with a fully migrated schema (and Redis, when configured, answers); 503 listing what failed."""
    database, schema, redis = await asyncio.gather(
        _check_database(), _check_schema(), _check_redis(get_settings().redis_url)
    )
    checks: dict[str, CheckState] = {"database": database, "schema": schema, "redis": redis}
    failed = [name for name, state in checks.items() if state == "failed"]
    body = Readiness(status="unavailable" if failed else "ok", checks=checks, failed=failed)
    return JSONResponse(body.model_dump(), status_code=503 if failed else 200)
