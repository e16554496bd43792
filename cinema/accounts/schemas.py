"""Request and response models of the accounts API (docs/api.md, "Accounts").

Passwords are write-only: they appear in request models only, are validated
here with the rules of `cinema.accounts.passwords` (so a weak one is a
FastAPI-shaped 422 whose body never repeats it), and no response model has a
password field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal

import email_validator
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from cinema.accounts import passwords
from cinema.accounts.actor import GroupName
from cinema.accounts.errors import InvalidEmail
from cinema.accounts.tables import Gender
from cinema.clock import IsoDate, utcnow
from cinema.ids import Id
from cinema.text import NoControlCharacters

#: Most guest-cart ids accepted at register/login.
MAX_GUEST_CART = 100


def _strong(password: str) -> str:
    broken = passwords.problems(password)
    if broken:
        # The message names the broken rules, never the password; the API's 422
        # handler also drops `input` for password fields.
        raise PydanticCustomError("weak_password", "The password " + "; ".join(broken) + ".")
    return password


def _unique_items(items: list[int | GuestCartItem] | None) -> list[int | GuestCartItem] | None:
    """Each movie once, as a `GuestCartItem` (a bare id is bought); the first occurrence wins."""
    if items is None:
        return None
    kept: dict[int, int | GuestCartItem] = {}
    for item in items:
        made = GuestCartItem(movie_id=item) if isinstance(item, int) else item
        kept.setdefault(made.movie_id, made)
    return list(kept.values())


def _not_in_future(value: date | None) -> date | None:
    if value is not None and value > utcnow().date():
        raise PydanticCustomError("date_in_future", "The date of birth cannot be in the future.")
    return value


def _blank_to_none(value: str | None) -> str | None:
    return value or None


#: Longest display name, in characters (`user_profiles.display_name` is VARCHAR(50)).
DISPLAY_NAME_MAX = 50
#: Unicode categories a display name may not contain: controls (NUL, tabs, newlines...),
#: invisible format characters (bidi overrides that reorder what others read, zero-width
#: spaces), surrogates, private use, and line/paragraph separators.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
#: What the neutral handle looks like ("Member 42", see `profiles.public_name`): no one may pick it.
_HANDLE_LIKE = re.compile(r"member\s*#?\s*\d+", re.IGNORECASE)


def _display_name(value: str | None) -> str | None:
    """NFC-normalised, trimmed, inner runs of spaces made one; blank is None (no display name)."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value)
    if any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in value):
        raise PydanticCustomError(
            "control_characters", "The display name cannot contain control or invisible characters."
        )
    value = " ".join(value.split())
    if not value:
        return None
    if len(value) > DISPLAY_NAME_MAX:
        raise PydanticCustomError(
            "display_name_too_long",
            "The display name can have at most {max} characters.",
            {"max": DISPLAY_NAME_MAX},
        )
    if _HANDLE_LIKE.fullmatch(value):
        raise PydanticCustomError(
            "display_name_reserved",
            "Names like 'Member 123' are reserved for members without a display name.",
        )
    return value


#: The name others see on your comments: 1..50 characters after trimming, no control or
#: invisible characters; blank or null removes it (you then appear as "Member <id>").
DisplayName = Annotated[Annotated[str, NoControlCharacters()] | None, AfterValidator(_display_name)]


#: A new password: 8..64 characters, <= 72 UTF-8 bytes, lower, upper, digit and symbol,
#: no control characters (bcrypt cannot hash a NUL; none can be typed in a form).
NewPassword = Annotated[str, NoControlCharacters(), AfterValidator(_strong)]
#: A password being checked (login, old password): any string of sane length. Never stored
#: nor echoed; a NUL simply never matches (`passwords.verify_password`), on every engine.
GivenPassword = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
# An account's email follows one rule in every door (API registration, CLI,
# admin): email-validator's syntax check through pydantic's `EmailStr`, without
# DNS lookups. email-validator also refuses IANA special-use domains; `.local`
# and `.test` are allowed again here (the library's documented switch), since
# the project's own accounts use them (`cinema demo` makes `admin@cinema.local`)
# and, with no deliverability check, refusing them protects nothing. The other
# special-use names (`localhost`, `invalid`, `onion`, `arpa`) stay refused: mail
# to them would land on the relay itself or nowhere. See README.md, "CLI".
for _private in ("local", "test"):
    if _private in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove(_private)

#: An account's email (the rule above), normalised by email-validator; the
#: services lower-case it (`User.normalize_email`).
AccountEmail = EmailStr
_ACCOUNT_EMAIL: TypeAdapter[str] = TypeAdapter(AccountEmail)


def account_email(value: str) -> str:
    """`value` checked and normalised as an account email, for doors that parse no model (the CLI).

    Raises ValueError with the message `POST /accounts/register` answers in
    its 422, e.g. "value is not a valid email address: An email address must
    have an @-sign."
    """
    try:
        return _ACCOUNT_EMAIL.validate_python(value)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None


#: An email used to look an account up. Not syntax-checked: an unknown one simply matches nothing.
LookupEmail = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=255), NoControlCharacters()
]
#: An emailed one-time token (43 URL-safe characters when we issue it).
EmailToken = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256), NoControlCharacters()
]


class GuestCartItem(BaseModel):
    """One item of a guest cart: a movie and its offer (the offers of `cinema.commerce.offers`)."""

    model_config = ConfigDict(extra="forbid")

    movie_id: Id
    offer: Literal["buy", "rent"] = Field("buy", description="`buy` (the default) or `rent`.")


#: Guest cart: at most 100 items, each a movie id (to buy) or `{movie_id, offer}`; a movie given
#: twice keeps its first item. Validated into `GuestCartItem`s.
GuestCart = Annotated[
    list[Id | GuestCartItem] | None,
    Field(
        max_length=MAX_GUEST_CART,
        description="The guest cart to merge: movie ids (bought) or `{movie_id, offer}` objects.",
    ),
    AfterValidator(_unique_items),
]
Name = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NoControlCharacters()] | None,
    AfterValidator(_blank_to_none),
]


def valid_email(value: str) -> str:
    """`value` checked as an account email (`account_email`), for services: 422 `invalid_email`."""
    try:
        return account_email(value)
    except ValueError as exc:
        raise InvalidEmail(reason=str(exc)) from None


class RegisterIn(BaseModel):
    email: AccountEmail
    password: NewPassword
    cart_movie_ids: GuestCart = None


class LoginIn(BaseModel):
    email: LookupEmail
    password: GivenPassword
    cart_movie_ids: GuestCart = None


class ActivateIn(BaseModel):
    email: LookupEmail
    token: EmailToken


class EmailIn(BaseModel):
    email: LookupEmail


class RefreshIn(BaseModel):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=4096), NoControlCharacters()]


class PasswordChangeIn(BaseModel):
    old_password: GivenPassword
    new_password: NewPassword


class PasswordResetIn(BaseModel):
    email: LookupEmail
    token: EmailToken
    new_password: NewPassword


class GroupIn(BaseModel):
    group: GroupName


class PasswordSetIn(BaseModel):
    """Body of `PUT /accounts/users/{id}/password` (ADMIN)."""

    password: NewPassword


class ProfileUpdate(BaseModel):
    """PATCH body: only the fields sent change; `null` clears a field."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName = None
    first_name: Name = None
    last_name: Name = None
    gender: Gender | None = None
    date_of_birth: Annotated[IsoDate | None, AfterValidator(_not_in_future)] = None
    info: Annotated[str, StringConstraints(max_length=5000), NoControlCharacters(multiline=True)] | None = (
        None
    )


class ProfileOut(BaseModel):
    #: Public (shown as a comment's author); every other field is private.
    display_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    gender: Gender | None = None
    date_of_birth: date | None = None
    info: str | None = None
    avatar_url: str | None = None


class UserOut(BaseModel):
    id: int
    email: str
    group: GroupName
    is_active: bool
    created_at: datetime
    profile: ProfileOut


class TokenOut(BaseModel):
    """Login/refresh answer; `expires_in` is the access token's life in seconds."""

    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2.0 token type, not a secret
    expires_in: int


class MessageOut(BaseModel):
    """A 202 acknowledgement that says what will happen, without revealing whether the account exists."""

    detail: str


class GroupOut(BaseModel):
    id: int
    name: GroupName
    users: int


class PurgeOut(BaseModel):
    """Rows deleted by `cinema tokens purge`, per kind."""

    activation_tokens: int
    password_reset_tokens: int
    refresh_tokens: int
    login_failures: int
    mail_requests: int
