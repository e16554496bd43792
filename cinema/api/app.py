"""FastAPI application factory: `create_app()` wires routers, errors and lifespan.

Run with `uvicorn --factory cinema.api.app:create_app` (what `cinema serve` does).
The process keeps no state of its own: sessions, rate-limit counters and
idempotency records live in the database (or Redis), so replicas can scale out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cinema import __version__
from cinema.api import errors
from cinema.api.routers import accounts, avatars, cart, catalog, interactions, ops, orders, payments
from cinema.config import get_settings
from cinema.db import close_pool, open_pool
from cinema.tasks import broker

DESCRIPTION = """Online-cinema backend: catalog, reactions, ratings, comments, favorites,
cart, orders and Stripe payments. Authenticate with `Authorization: Bearer <access token>`
from `POST /accounts/login`. Errors are `{"detail", "code"}`; money is a string with two decimals."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await open_pool()
    if not broker.is_worker_process:
        await broker.startup()
    try:
        yield
    finally:
        if not broker.is_worker_process:
            await broker.shutdown()
        await close_pool()


def create_app() -> FastAPI:
    """Build the ASGI app from the current settings."""
    settings = get_settings()
    app = FastAPI(
        title="Cinema API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=False,
    )
    errors.install(app)
    for module in (ops, accounts, avatars, catalog, interactions, cart, orders, payments):
        app.include_router(module.router)
    _ = settings
    return app
