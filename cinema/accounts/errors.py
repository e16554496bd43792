"""Accounts' error conditions: one class, one `code`, one sentence each (docs/errors.md).

Other domains import these (a missing user is `user_not_found` everywhere);
they never declare their own.
"""

from __future__ import annotations

from cinema.errors import NotFound, PermissionDenied


class UserNotFound(NotFound):
    code = "user_not_found"
    default_detail = "The user does not exist."


class RoleRequired(PermissionDenied):
    """The caller's role is below the one the action needs.

    Keeps the public `permission_denied` code; the role needed is the body's
    `required_group` field.
    """

    default_detail = "Your role does not allow this."
