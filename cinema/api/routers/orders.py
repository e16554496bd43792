"""HTTP routes for orders (API.md). Thin: parse, call one service function, render."""

from cinema.api.routing import CinemaRouter

router = CinemaRouter(tags=["orders"])
