"""Entitlements' error conditions: one class, one `code`, one sentence each (docs/errors.md).

A missing user or movie is `user_not_found` / `movie_not_found`, declared by
accounts and catalog and raised from here as they are.
"""

from __future__ import annotations

from cinema.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ValidationFailed


class NotEntitled(PermissionDenied):
    code = "not_entitled"
    default_detail = "You may not watch this movie: buy or rent it first."


class EntitlementNotFound(NotFound):
    code = "entitlement_not_found"
    default_detail = "The entitlement does not exist."


class AlreadyOwned(Conflict):
    code = "already_owned"
    default_detail = "The user already owns this movie for good."


class AlreadyRevoked(Conflict):
    code = "already_revoked"
    default_detail = "The entitlement is already revoked."


class PurchaseNotRevocable(Conflict):
    """Staff may not end a paid purchase by hand: the money would stay taken."""

    code = "purchase_not_revocable"
    default_detail = "A purchase ends through a refund of its order, not a revocation."


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    default_detail = "Say why: a reason of 1 to 500 characters is required."


class InvalidExpiry(ValidationFailed):
    code = "invalid_expiry"
    default_detail = "The expiry must be in the future."


class InvalidGrantFile(InvalidInput):
    code = "invalid_grant_file"
    default_detail = "The file must be CSV with the header user,movie[,days], or JSON lines of objects."


class InvalidGrantLine(InvalidInput):
    """One line of a bulk grant that is not a user, a movie and optional days; `problem` says which."""

    code = "invalid_grant_line"
    default_detail = "The line needs a user (id or email), a movie id and optional days (1 to 36500)."
