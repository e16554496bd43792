"""Admin actions on rights to watch: grant and revoke, through the same service as the API and CLI.

The `entitlements` table is read-only rows in the admin; these forms are how
staff change it (docs/entitlements.md, "Staff grants and revocations"):

- Grant access: `service.grant`, like `POST /entitlements` and
  `cinema entitlements grant`;
- Revoke access: `service.revoke`, like `DELETE /entitlements/{id}` and
  `cinema entitlements revoke`.

The service decides who may (ADMIN); the forms are shown to ADMIN only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from starlette.requests import Request

from cinema import clock
from cinema.accounts.actor import GroupName
from cinema.accounts.queries import parse_user_ref
from cinema.admin.access import require_staff
from cinema.admin.actions import Action, RowId
from cinema.entitlements import service
from cinema.entitlements.schemas import REASON_MAX, Reason

#: A user as staff type it: an id or an email, parsed by the one user-reference rule.
UserText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=320),
    AfterValidator(parse_user_ref),
]


class GrantForm(BaseModel):
    user: UserText = Field(description="The user's id or email (Accounts > Users).")
    movie_id: RowId = Field(description="Its id in Catalog > Movies.")
    days: int | None = Field(
        None, ge=1, le=36500, description="Access ends after this many days; empty: forever."
    )
    reason: Reason = Field(description=f"Why, for the record (1 to {REASON_MAX} characters).")


class RevokeForm(BaseModel):
    entitlement_id: RowId = Field(description="Its id in Entitlements > Entitlements.")
    reason: Reason = Field(description=f"Why, for the record (1 to {REASON_MAX} characters).")


async def grant_access(request: Request, data: GrantForm) -> str:
    staff = await require_staff(request, GroupName.ADMIN)
    expires = None if data.days is None else clock.utcnow() + timedelta(days=data.days)
    done = await service.grant(staff.actor, data.user, data.movie_id, reason=data.reason, expires_at=expires)
    until = f"until {done.expires_at:%Y-%m-%d %H:%M} UTC" if done.expires_at else "forever"
    return f"Granted #{done.id}: user {done.user_id} may watch movie {done.movie_id} {until}."


async def revoke_access(request: Request, data: RevokeForm) -> str:
    staff = await require_staff(request, GroupName.ADMIN)
    done = await service.revoke(staff.actor, data.entitlement_id, reason=data.reason)
    return f"Revoked #{done.id}: user {done.user_id} may no longer watch movie {done.movie_id} through it."


class EntitlementAction(Action):
    """An `Action` listed under its own heading, "Entitlements"."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.form_group = "Entitlements"


def entitlement_actions() -> list[Action]:
    return [
        EntitlementAction(
            "Grant access",
            GrantForm,
            grant_access,
            minimum=GroupName.ADMIN,
            description="Let a user watch a movie, forever or for some days, with a reason "
            "(as POST /entitlements and `cinema entitlements grant`).",
        ),
        EntitlementAction(
            "Revoke access",
            RevokeForm,
            revoke_access,
            minimum=GroupName.ADMIN,
            description="End a grant or a rental now, with a reason; a purchase ends through a refund "
            "(as DELETE /entitlements/{id} and `cinema entitlements revoke`).",
        ),
    ]
