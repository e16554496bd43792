"""HTTP routes for ops. Thin: parse, call one service function, render."""

from cinema.api.routing import CinemaRouter

router = CinemaRouter(tags=["ops"])
