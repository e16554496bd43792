"""Accounts errors (the accounts work declares the rest here)."""

from __future__ import annotations

from cinema.errors import NotFound


class UserNotFound(NotFound):
    code = "user_not_found"
    default_detail = "The user does not exist."
