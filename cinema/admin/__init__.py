"""Piccolo Admin at `/admin`: a front door for staff, like the API and the CLI (docs/admin.md).

Staff sign in with their normal account (ARCHITECTURE.md, "One account
store"): `cinema.accounts.tables.User.login` takes the email and admits only
active MODERATOR and ADMIN accounts; browser sessions live in `admin_sessions`.

- access.py: who is acting, and their role, read fresh on every request;
- tables.py: every table's menu, roles, door and hidden columns (`TableSpec`);
- crud.py: the table API (`CinemaCRUD`): role checks, secrets never served,
  filters by attribute name, writes handed to the doors;
- doors.py: each table's writes, through the same services as the API and CLI;
- actions.py: the forms that change money state (refunds, orders) and the like;
- entitlement_actions.py: the forms that grant and revoke rights to watch;
- media.py: the page where staff upload a poster or a trailer (the API's checks);
- router.py: `CinemaAdminRouter`, the piccolo_admin app tying them together.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from piccolo_api.rate_limiting.middleware import InMemoryLimitProvider

from cinema.accounts.tables import AdminSession
from cinema.admin.actions import actions
from cinema.admin.entitlement_actions import entitlement_actions
from cinema.admin.router import CinemaAdminRouter
from cinema.admin.tables import specs
from cinema.config import Settings, get_settings

ADMIN_PATH = "/admin"
SITE_NAME = "Cinema Admin"
#: The sidebar's link to the poster and trailer upload page (cinema/admin/media.py).
MEDIA_UPLOAD_LINK = "Upload a poster or trailer"

__all__ = ["ADMIN_PATH", "SITE_NAME", "AdminSession", "CinemaAdminRouter", "create_admin_app"]


def create_admin_app(settings: Settings | None = None) -> CinemaAdminRouter:
    """The Piccolo Admin ASGI app, to mount at `ADMIN_PATH`."""
    from cinema.accounts.tables import User

    settings = settings or get_settings()
    public = urlsplit(settings.public_base_url)
    return CinemaAdminRouter(
        specs(),
        [*actions(), *entitlement_actions()],
        auth_table=User,
        session_table=AdminSession,
        site_name=SITE_NAME,
        production=settings.environment == "production" or public.scheme == "https",
        allowed_hosts=[public.hostname] if public.hostname else [],
        page_size=25,
        # Sign-in attempts are limited per account in the database (the API's limiter,
        # shared by replicas). piccolo_admin's own per-address limit stays as a flood
        # guard, but a block lifts after five minutes: its default never lifts, so one
        # client behind a shared address could lock every staff member out.
        rate_limit_provider=InMemoryLimitProvider(limit=20, timespan=300, block_duration=300),
        sidebar_links={MEDIA_UPLOAD_LINK: "./media-upload/"},
    )
