"""Entitlements: granting, revoking and reading the rights to watch (docs/entitlements.md).

Rules:
- staff grants and revocations need ADMIN (`actor`), take a reason (1 to 500
  characters) and are recorded with who did it;
- a grant to a user who already holds a live entitlement without end is 409
  `already_owned`; a timed grant next to a timed right is allowed (it can only
  add time);
- a grant's `expires_at` must lie in the future (422 `invalid_expiry`);
- staff revoke grants and rentals; a purchase ends through a refund of its
  order (409 `purchase_not_revocable`), a second revocation is 409 `already_revoked`;
- changes of one user's rights queue on that user's row (a lock held to the end
  of the transaction), so concurrent grants and revocations apply one after the
  other and each sees the one before;
- a paid purchase is recorded by commerce through `grant_purchases`, in the
  payment's transaction; it supersedes a rental of the same movie not ended
  yet. A paid rental (`grant_rentals`) takes the movie's window, fixed at
  payment, and is skipped when the movie is owned for good by then; its first
  playback starts its clock (`start_rental`, once). `holdings` tells the cart
  and orders what a user owns or rents now (docs/entitlements.md, "Rentals"). A
  refund ends exactly the refunded order items' rows (`revoke_for_refund`); a
  chargeback suspends the payment's rows until it is won (restored) or lost
  (revoked).

Whether a row gives access now is `cinema.entitlements.access`; this module
only records rights.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cinema import clock
from cinema.accounts.actor import CurrentUser, GroupName, require_group
from cinema.accounts.errors import UserNotFound
from cinema.accounts.tables import User
from cinema.catalog.errors import MovieNotFound
from cinema.config import get_settings
from cinema.db import MAX_ID, fetch, lock_clause, transaction
from cinema.entitlements.access import FOREVER, live_sql
from cinema.entitlements.errors import (
    AlreadyOwned,
    AlreadyRevoked,
    EntitlementNotFound,
    InvalidExpiry,
    PurchaseNotRevocable,
    ReasonRequired,
)
from cinema.entitlements.schemas import REASON_MAX, EntitlementOut, EntitlementStatus
from cinema.entitlements.tables import EntitlementSource
from cinema.errors import CinemaError
from cinema.pagination import Page, PageParams
from cinema.sql import any_of, as_datetime
from cinema.text import refuse_control_characters

#: `revoke_reason` of the rows the system ends (staff write their own reason).
REFUND_REASON = "refund"
SUPERSEDED_REASON = "superseded by a purchase"
CHARGEBACK_REASON = "chargeback lost"

#: A user named by id or by email (any case), as the CLI takes it.
UserRef = int | str

COLUMNS = (
    "e.id, e.user_id, e.movie_id, e.source, e.order_item_id, e.payment_id, e.starts_at, e.expires_at, "
    "e.start_by, e.granted_by_id, e.grant_reason, e.revoked_at, e.revoke_reason, e.revoked_by_id, "
    "e.suspended_at, e.created_at"
)
#: A live row without end: owned for good (a purchase or a permanent grant).
_FOR_GOOD = "e.expires_at IS NULL AND e.start_by IS NULL"


def require_admin(actor: CurrentUser) -> None:
    """Raise `RoleRequired` (403 `permission_denied`) unless `actor` is ADMIN."""
    require_group(actor, GroupName.ADMIN)


def actor_user_id(actor: CurrentUser) -> int | None:
    """The actor's user id for `granted_by`/`revoked_by`; None for the CLI operator and the system."""
    return actor.id if actor.is_user else None


def clean_reason(reason: str) -> str:
    """`reason` stripped; `ReasonRequired` (422) when blank, too long or holding control characters."""
    text = (reason or "").strip()
    if not 1 <= len(text) <= REASON_MAX:
        raise ReasonRequired()
    try:
        refuse_control_characters(text, multiline=True)
    except ValueError:
        raise ReasonRequired() from None
    return text


def status_of(row: Any, active: bool, now: datetime) -> EntitlementStatus:
    """How a row stands at `now`, given whether it is live (`access.live_sql`'s value)."""
    if row["revoked_at"] is not None:
        return EntitlementStatus.REVOKED
    if row["suspended_at"] is not None:
        return EntitlementStatus.SUSPENDED
    if active:
        return EntitlementStatus.ACTIVE
    if as_datetime(row["starts_at"]) > now:
        return EntitlementStatus.SCHEDULED
    return EntitlementStatus.EXPIRED


def _when(value: Any) -> datetime | None:
    return None if value is None else as_datetime(value)


def entitlement_out(row: Any, now: datetime) -> EntitlementOut:
    """A row of `COLUMNS` plus `active` (`live_sql` at `now`) as `EntitlementOut`."""
    active = bool(row["active"])
    return EntitlementOut(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        movie_id=int(row["movie_id"]),
        source=EntitlementSource(row["source"]),
        order_item_id=row["order_item_id"],
        payment_id=row["payment_id"],
        starts_at=as_datetime(row["starts_at"]),
        expires_at=_when(row["expires_at"]),
        start_by=_when(row["start_by"]),
        granted_by=row["granted_by_id"],
        grant_reason=row["grant_reason"],
        revoked_at=_when(row["revoked_at"]),
        revoke_reason=row["revoke_reason"],
        revoked_by=row["revoked_by_id"],
        suspended_at=_when(row["suspended_at"]),
        created_at=as_datetime(row["created_at"]),
        active=active,
        status=status_of(row, active, now),
    )


_ONE = f"SELECT {COLUMNS}, {live_sql('e', '{}')} AS active FROM entitlements e WHERE e.id = {{}}"  # noqa: S608


async def get_entitlement(actor: CurrentUser, entitlement_id: int) -> EntitlementOut:
    """One entitlement (ADMIN). Raises `EntitlementNotFound` (404)."""
    require_admin(actor)
    return await _get(entitlement_id)


async def _get(entitlement_id: int, now: datetime | None = None) -> EntitlementOut:
    now = now or clock.utcnow()
    _check_id(entitlement_id, EntitlementNotFound)
    rows = await fetch(_ONE, now, entitlement_id)
    if not rows:
        raise EntitlementNotFound(entitlement_id=entitlement_id)
    return entitlement_out(rows[0], now)


async def list_entitlements(
    actor: CurrentUser,
    params: PageParams,
    *,
    user: UserRef | None = None,
    movie_id: int | None = None,
    source: EntitlementSource | None = None,
    active: bool | None = None,
    now: datetime | None = None,
) -> Page[EntitlementOut]:
    """Entitlements, newest first, filtered by user (id or email), movie, source and whether live now.

    ADMIN only. Raises `UserNotFound` (404) for an email that names nobody.
    """
    require_admin(actor)
    now = now or clock.utcnow()
    user_id = user if user is None or isinstance(user, int) else await resolve_user(user)
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (("e.user_id", user_id), ("e.movie_id", movie_id), ("e.source", source)):
        if value is not None:
            clauses.append(f"{column} = {{}}")
            args.append(value.value if isinstance(value, EntitlementSource) else value)
    if active is not None:
        clauses.append(live_sql("e", "{}") if active else f"NOT {live_sql('e', '{}')}")
        args.append(now)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    total = await fetch(f"SELECT count(*) AS n FROM entitlements e {where}", *args)  # noqa: S608
    rows = await fetch(
        f"SELECT {COLUMNS}, {live_sql('e', '{}')} AS active FROM entitlements e {where} "  # noqa: S608
        "ORDER BY e.id DESC LIMIT {} OFFSET {}",
        now,
        *args,
        params.per_page,
        params.offset,
    )
    return Page[EntitlementOut].build([entitlement_out(row, now) for row in rows], params, int(total[0]["n"]))


# --- Locks and lookups ----------------------------------------------------------


def _check_id(value: int, error: type[CinemaError]) -> None:
    """Ids outside 1..MAX_ID name no row (and would overflow PostgreSQL's integer): `error`."""
    if not 1 <= value <= MAX_ID:
        raise error()


async def resolve_user(user: UserRef) -> int:
    """The id of the user named by id or email (any case). Raises `UserNotFound` (404)."""
    if isinstance(user, int):
        _check_id(user, UserNotFound)
    condition = "id = {}" if isinstance(user, int) else "email = {}"
    value = user if isinstance(user, int) else User.normalize_email(user)
    rows = await fetch(f"SELECT id FROM users WHERE {condition}", value)  # noqa: S608
    if not rows:
        raise UserNotFound()
    return int(rows[0]["id"])


async def lock_user(user: UserRef) -> int:
    """Resolve a user by id or email and lock their row (NO KEY UPDATE) to the end of the transaction.

    Every change of a user's rights takes this lock first, so they queue per
    user. Raises `UserNotFound` (404).
    """
    if isinstance(user, int):
        _check_id(user, UserNotFound)
    condition = "id = {}" if isinstance(user, int) else "email = {}"
    value = user if isinstance(user, int) else User.normalize_email(user)
    rows = await fetch(
        f"SELECT id FROM users WHERE {condition}" + lock_clause("NO KEY UPDATE"),  # noqa: S608
        value,
    )
    if not rows:
        raise UserNotFound()
    return int(rows[0]["id"])


async def keep_movie(movie_id: int) -> None:
    """Check the movie exists and keep it from being deleted until commit. Raises `MovieNotFound` (404)."""
    _check_id(movie_id, MovieNotFound)
    if not await fetch("SELECT id FROM movies WHERE id = {}" + lock_clause("KEY SHARE"), movie_id):  # noqa: S608
        raise MovieNotFound(movie_id=movie_id)


_OWNED_FOR_GOOD = (
    f"SELECT e.id FROM entitlements e WHERE e.user_id = {{}} AND e.movie_id = {{}} AND {_FOR_GOOD} "  # noqa: S608
    f"AND {live_sql('e', '{}')} ORDER BY e.id LIMIT 1"
)


async def owned_for_good(user_id: int, movie_id: int, now: datetime) -> int | None:
    """The id of the user's live entitlement without end to the movie, if any."""
    rows = await fetch(_OWNED_FOR_GOOD, user_id, movie_id, now)
    return int(rows[0]["id"]) if rows else None


# --- Staff grants and revocations ------------------------------------------------


async def grant(
    actor: CurrentUser,
    user: UserRef,
    movie_id: int,
    *,
    reason: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> EntitlementOut:
    """Give a user the right to watch a movie, until `expires_at` (None: forever). ADMIN only.

    Raises `RoleRequired` (403), `ReasonRequired` and `InvalidExpiry` (422),
    `UserNotFound` and `MovieNotFound` (404), `AlreadyOwned` (409).
    """
    require_admin(actor)
    text = clean_reason(reason)
    if expires_at is not None and expires_at <= (now or clock.utcnow()):
        raise InvalidExpiry()
    async with transaction():
        user_id = await lock_user(user)
        # Read once the lock is held: rows then carry the order in which the changes applied.
        now = now or clock.utcnow()
        await keep_movie(movie_id)
        owned = await owned_for_good(user_id, movie_id, now)
        if owned is not None:
            raise AlreadyOwned(entitlement_id=owned)
        rows = await fetch(
            "INSERT INTO entitlements (user_id, movie_id, source, starts_at, expires_at, granted_by_id, "
            "grant_reason, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
            user_id,
            movie_id,
            EntitlementSource.GRANT.value,
            now,
            expires_at,
            actor_user_id(actor),
            text,
            now,
        )
    return await _get(int(rows[0]["id"]), now)


async def revoke(
    actor: CurrentUser, entitlement_id: int, *, reason: str, now: datetime | None = None
) -> EntitlementOut:
    """End a grant or a rental for good, with a reason. ADMIN only.

    Raises `RoleRequired` (403), `ReasonRequired` (422), `EntitlementNotFound`
    (404), `AlreadyRevoked` and `PurchaseNotRevocable` (409).
    """
    require_admin(actor)
    text = clean_reason(reason)
    _check_id(entitlement_id, EntitlementNotFound)
    async with transaction():
        found = await fetch("SELECT user_id FROM entitlements WHERE id = {}", entitlement_id)
        if not found:
            raise EntitlementNotFound(entitlement_id=entitlement_id)
        await lock_user(int(found[0]["user_id"]))
        now = now or clock.utcnow()
        rows = await fetch(
            "SELECT source, revoked_at FROM entitlements WHERE id = {}" + lock_clause(),  # noqa: S608
            entitlement_id,
        )
        if rows[0]["revoked_at"] is not None:
            raise AlreadyRevoked(entitlement_id=entitlement_id)
        if rows[0]["source"] == EntitlementSource.PURCHASE:
            raise PurchaseNotRevocable(entitlement_id=entitlement_id)
        await fetch(
            "UPDATE entitlements SET revoked_at = {}, revoke_reason = {}, revoked_by_id = {} WHERE id = {}",
            now,
            text,
            actor_user_id(actor),
            entitlement_id,
        )
    return await _get(entitlement_id, now)


# --- What commerce records -------------------------------------------------------


@dataclass(frozen=True)
class PaidItem:
    """A paid order item: the movie and the `order_items` row it was paid through."""

    movie_id: int
    order_item_id: int


class Holding(enum.StrEnum):
    """What a user holds of a movie now, as the cart and order rules read it."""

    #: A live right without end: a purchase or a permanent grant.
    OWNED = "owned"
    #: A live rental (started or not), and nothing without end.
    RENTED = "rented"


_HOLDINGS = (
    "SELECT e.movie_id, "  # noqa: S608 - fixed fragments only
    f"max(CASE WHEN {_FOR_GOOD} THEN 1 ELSE 0 END) AS owned, "
    "max(CASE WHEN e.source = 'rental' THEN 1 ELSE 0 END) AS rented "
    "FROM entitlements e WHERE e.user_id = {{}} AND {movies} AND {live} GROUP BY e.movie_id"
)


async def holdings(user_id: int, movie_ids: Sequence[int], now: datetime | None = None) -> dict[int, Holding]:
    """Which of the movies the user owns for good or rents now (absent: neither; a timed grant is neither).

    The cart's `already_purchased` rule and order creation read this, so
    they follow the entitlements (docs/entitlements.md, "Rentals").
    """
    if not movie_ids:
        return {}
    movies, values = any_of("e.movie_id", list(movie_ids), "int4")
    rows = await fetch(
        _HOLDINGS.format(movies=movies, live=live_sql("e", "{}")),
        user_id,
        *values,
        now or clock.utcnow(),
    )
    return {
        int(row["movie_id"]): Holding.OWNED if int(row["owned"]) else Holding.RENTED
        for row in rows
        if int(row["owned"]) or int(row["rented"])
    }


async def grant_purchases(
    user_id: int, items: Sequence[PaidItem], *, payment_id: int | None, now: datetime | None = None
) -> list[int]:
    """Record paid purchases as `purchase` entitlements, forever; returns their ids.

    Runs in the caller's transaction (the payment's). A live rental of the same
    movie (running or not started) is revoked as superseded: the purchase now
    covers it. A movie that already has a live purchase row gets no second one.
    """
    if not items:
        return []
    ids: list[int] = []
    async with transaction():
        await lock_user(user_id)
        # Read once the lock is held, so a rental recorded just before is seen as started.
        now = now or clock.utcnow()
        movie_ids = [item.movie_id for item in items]
        movies, values = any_of("movie_id", movie_ids, "int4")
        # Only a rental not ended yet: an expired one keeps its own end in the history.
        await fetch(
            "UPDATE entitlements SET revoked_at = {}, revoke_reason = {} "  # noqa: S608
            f"WHERE user_id = {{}} AND source = 'rental' AND {movies} AND revoked_at IS NULL "
            f"AND COALESCE(expires_at, start_by, {FOREVER}) >= {{}}",
            now,
            SUPERSEDED_REASON,
            user_id,
            *values,
            now,
        )
        bought = {
            int(row["movie_id"])
            for row in await fetch(
                "SELECT movie_id FROM entitlements "  # noqa: S608
                f"WHERE user_id = {{}} AND source = 'purchase' AND revoked_at IS NULL AND {movies}",
                user_id,
                *values,
            )
        }
        for item in items:
            if item.movie_id in bought:
                continue
            bought.add(item.movie_id)
            rows = await fetch(
                "INSERT INTO entitlements (user_id, movie_id, source, order_item_id, payment_id, starts_at, "
                "created_at) VALUES ({}, {}, {}, {}, {}, {}, {}) RETURNING id",
                user_id,
                item.movie_id,
                EntitlementSource.PURCHASE.value,
                item.order_item_id,
                payment_id,
                now,
                now,
            )
            ids.append(int(rows[0]["id"]))
    return ids


@dataclass(frozen=True)
class RentalTerms:
    """A rental's window: days to start watching, then hours it runs once started."""

    start_days: int
    hours: int


async def rental_terms(movie_id: int) -> RentalTerms:
    """The movie's rental window: its own `rental_start_days`/`rental_hours`, else the settings'.

    Raises `MovieNotFound` (404).
    """
    rows = await fetch("SELECT rental_start_days, rental_hours FROM movies WHERE id = {}", movie_id)
    if not rows:
        raise MovieNotFound(movie_id=movie_id)
    settings = get_settings()
    days, hours = rows[0]["rental_start_days"], rows[0]["rental_hours"]
    return RentalTerms(
        start_days=settings.rental_start_days if days is None else int(days),
        hours=settings.rental_hours if hours is None else int(hours),
    )


async def _insert_rental(
    user_id: int, movie_id: int, order_item_id: int | None, payment_id: int | None, now: datetime
) -> int:
    terms = await rental_terms(movie_id)
    rows = await fetch(
        "INSERT INTO entitlements (user_id, movie_id, source, order_item_id, payment_id, starts_at, "
        "start_by, rental_hours, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
        user_id,
        movie_id,
        EntitlementSource.RENTAL.value,
        order_item_id,
        payment_id,
        now,
        now + timedelta(days=terms.start_days),
        terms.hours,
        now,
    )
    return int(rows[0]["id"])


async def grant_rental(
    user_id: int,
    movie_id: int,
    *,
    order_item_id: int | None,
    payment_id: int | None,
    now: datetime | None = None,
) -> int:
    """Record one paid rental (see `grant_rentals`); returns its id.

    Raises `AlreadyOwned` (409) when the user owns the movie for good.
    """
    async with transaction():
        await lock_user(user_id)
        now = now or clock.utcnow()
        owned = await owned_for_good(user_id, movie_id, now)
        if owned is not None:
            raise AlreadyOwned(entitlement_id=owned)
        return await _insert_rental(user_id, movie_id, order_item_id, payment_id, now)


async def grant_rentals(
    user_id: int, items: Sequence[PaidItem], *, payment_id: int | None, now: datetime | None = None
) -> dict[int, int]:
    """Record paid rentals, each live until its start deadline, then its hours once started.

    Returns the new rows' ids by order item id.

    Runs in the caller's transaction (the payment's), under the user's lock.
    The window is the movie's (`rental_terms`), fixed now: a later change of
    the movie's terms does not change a rental already paid. A movie the user
    owns for good by now (a staff grant after the order was made) gets no
    rental (its order item is absent from the answer); the caller flags the
    payment for a refund.
    """
    if not items:
        return {}
    ids: dict[int, int] = {}
    async with transaction():
        await lock_user(user_id)
        now = now or clock.utcnow()
        for item in items:
            if await owned_for_good(user_id, item.movie_id, now) is None:
                ids[item.order_item_id] = await _insert_rental(
                    user_id, item.movie_id, item.order_item_id, payment_id, now
                )
    return ids


def unstarted_rental_sql(user_ref: str, movie_ref: str, now_ref: str) -> str:
    """A boolean SQL expression: the user holds a live rental of the movie whose clock has not started.

    For a caller's own statement (playback asks it with the may-watch rule, so
    only a first playback pays for `start_rental`). Each ref is a column or a
    `{}` placeholder and appears once, in the order user, movie, now.
    """
    return (
        f"EXISTS (SELECT 1 FROM entitlements r WHERE r.user_id = {user_ref} "  # noqa: S608 - refs are code
        f"AND r.movie_id = {movie_ref} AND r.source = 'rental' AND r.expires_at IS NULL "
        f"AND {live_sql('r', now_ref)})"
    )


_UNSTARTED_RENTAL = (
    "SELECT e.id, e.rental_hours FROM entitlements e WHERE e.user_id = {} AND e.movie_id = {} "  # noqa: S608
    f"AND e.source = 'rental' AND e.expires_at IS NULL AND {live_sql('e', '{}')} ORDER BY e.id LIMIT 1"
)
#: Sets the end only while there is none: of two first playbacks at once, one sets it.
_START_RENTAL = "UPDATE entitlements SET expires_at = {} WHERE id = {} AND expires_at IS NULL RETURNING id"


async def start_rental(user_id: int, movie_id: int, now: datetime | None = None) -> datetime | None:
    """Start the clock of the user's live, unstarted rental of the movie (its first playback URL).

    Sets `expires_at` to now + the rental's hours; returns it, or None when
    there was no unstarted rental or a concurrent first playback started it
    first (nothing changes: a started rental keeps its end).
    """
    now = now or clock.utcnow()
    rows = await fetch(_UNSTARTED_RENTAL, user_id, movie_id, now)
    if not rows:
        return None
    hours = rows[0]["rental_hours"]
    ends = now + timedelta(hours=get_settings().rental_hours if hours is None else int(hours))
    started = await fetch(_START_RENTAL, ends, int(rows[0]["id"]))
    return ends if started else None


async def revoke_for_refund(order_item_ids: Sequence[int], now: datetime | None = None) -> list[int]:
    """End the live rows paid through these order items (their refund); returns the movie ids ended.

    Runs in the refund's transaction. Rows already revoked stay as they are.
    """
    if not order_item_ids:
        return []
    items, values = any_of("order_item_id", list(order_item_ids), "int4")
    rows = await fetch(
        "UPDATE entitlements SET revoked_at = {}, revoke_reason = {} "  # noqa: S608
        f"WHERE revoked_at IS NULL AND {items} RETURNING movie_id",
        now or clock.utcnow(),
        REFUND_REASON,
        *values,
    )
    return sorted(int(row["movie_id"]) for row in rows)


async def suspend_for_dispute(payment_id: int, now: datetime | None = None) -> int:
    """Pause the live rows paid by a disputed payment; returns how many. A second call changes nothing."""
    rows = await fetch(
        "UPDATE entitlements SET suspended_at = {} WHERE payment_id = {} AND revoked_at IS NULL "
        "AND suspended_at IS NULL RETURNING id",
        now or clock.utcnow(),
        payment_id,
    )
    return len(rows)


async def restore_after_dispute(payment_id: int) -> int:
    """A dispute won: lift the suspension of the payment's rows; returns how many."""
    rows = await fetch(
        "UPDATE entitlements SET suspended_at = NULL WHERE payment_id = {} AND revoked_at IS NULL "
        "AND suspended_at IS NOT NULL RETURNING id",
        payment_id,
    )
    return len(rows)


async def revoke_for_lost_dispute(payment_id: int, now: datetime | None = None) -> int:
    """A dispute lost: the payment's rows end for good (the suspension stays recorded); returns how many."""
    rows = await fetch(
        "UPDATE entitlements SET revoked_at = {}, revoke_reason = {} WHERE payment_id = {} "
        "AND revoked_at IS NULL RETURNING id",
        now or clock.utcnow(),
        CHARGEBACK_REASON,
        payment_id,
    )
    return len(rows)
