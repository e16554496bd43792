"""The accounts service: every operation the API, the CLI and tasks call.

One import for the front doors (`from cinema.accounts import service`); the
rules live in the small modules re-exported here:

- `registration`: register, activate, resend activation;
- `auth`: login (rate limited), refresh (rotation, reuse detection), logout;
- `recovery`: password change, forgot, reset;
- `profiles`: `/accounts/me` and the profile;
- `management`: staff operations (list, show, create, group, (de)activate,
  set password, set email, groups, purge), each taking the acting staff member
  (`actor`); deleting a user goes through `cinema.interactions.erasure.delete_user`,
  which also recounts the movies' counters the user's interactions were part of;
- `sessions.revoke_all_sessions`: the one way an account's sessions (API tokens
  and admin cookies) end.
"""

from __future__ import annotations

from cinema.accounts.auth import login, logout, refresh
from cinema.accounts.management import (
    create_user,
    get_user,
    list_groups,
    list_users,
    purge_tokens,
    set_active,
    set_email,
    set_group,
    set_password,
)
from cinema.accounts.profiles import get_me, get_profile, update_profile
from cinema.accounts.queries import UserRef
from cinema.accounts.recovery import change_password, forgot_password, reset_password
from cinema.accounts.registration import activate, register, resend_activation
from cinema.accounts.sessions import revoke_all_sessions

__all__ = [
    "UserRef",
    "activate",
    "change_password",
    "create_user",
    "forgot_password",
    "get_me",
    "get_profile",
    "get_user",
    "list_groups",
    "list_users",
    "login",
    "logout",
    "purge_tokens",
    "refresh",
    "register",
    "resend_activation",
    "reset_password",
    "revoke_all_sessions",
    "set_active",
    "set_email",
    "set_group",
    "set_password",
    "update_profile",
]
