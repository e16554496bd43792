"""What each email needs: one typed payload per email kind, checked when the email is enqueued.

`cinema.jobs.enqueue_email(kind, to, **fields)` validates `fields` against
the kind's model in the request (or task) that causes the email, so a
missing, unknown or mistyped field fails there, before the transaction's
after-commit hooks run, not later in the worker. The worker validates the
JSON it receives with the same model and renders the message from it
(cinema/mail/messages.py).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cinema.ids import Id

#: Text for the body of a message (subjects are built from ids only, so no header can be smuggled).
Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
#: An amount as the money helpers print it (`"19.99"`).
Amount = Annotated[str, StringConstraints(pattern=r"^\d+\.\d{2}$")]
#: An ISO 4217 currency code, any case (`usd`).
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")]
#: An emailed one-time token (43 URL-safe characters when the accounts service issues it).
Token = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_\-]+$")]


class EmailPayload(BaseModel):
    """The fields of one email kind. Subclasses set `kind`; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    kind: ClassVar[str]


class Activation(EmailPayload):
    kind = "activation"
    token: Token
    ttl_hours: int = Field(ge=1)


class PasswordReset(EmailPayload):
    kind = "password_reset"
    token: Token
    ttl_hours: int = Field(ge=1)


class PasswordChanged(EmailPayload):
    kind = "password_changed"


class CommentNotification(EmailPayload):
    kind = "comment_notification"
    message: Text
    movie_id: Id


class PaymentSucceeded(EmailPayload):
    kind = "payment_succeeded"
    order_id: Id
    amount: Amount
    currency: Currency
    movies: list[Text]


class PaymentFailed(EmailPayload):
    kind = "payment_failed"
    order_id: Id
    reason: Text


class RefundProcessed(EmailPayload):
    kind = "refund_processed"
    order_id: Id
    amount: Amount
    currency: Currency


class RefundRejected(EmailPayload):
    kind = "refund_rejected"
    order_id: Id
    note: Text


class RentalEnding(EmailPayload):
    """A started rental ends within a day (docs/entitlements.md, "Rentals")."""

    kind = "rental_ending"
    movie: Text
    movie_id: Id
    #: When it ends, as shown: `YYYY-MM-DD HH:MM UTC`.
    ends_at: Text


#: Every email kind the product sends, by name (the worker task's argument).
PAYLOADS: dict[str, type[EmailPayload]] = {
    model.kind: model
    for model in (
        Activation,
        PasswordReset,
        PasswordChanged,
        CommentNotification,
        PaymentSucceeded,
        PaymentFailed,
        RefundProcessed,
        RefundRejected,
        RentalEnding,
    )
}


def payload(kind: str, fields: dict[str, object]) -> EmailPayload:
    """`fields` checked as the `kind` email's payload.

    Raises ValueError for an unknown kind and `pydantic.ValidationError` (a
    ValueError too) for a missing, unknown or mistyped field.
    """
    model = PAYLOADS.get(kind)
    if model is None:
        raise ValueError(f"unknown email kind {kind!r}")
    return model.model_validate(fields)
