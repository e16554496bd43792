"""Request and response models of the accounts API (API.md, "Accounts").

Passwords are write-only: they appear in request models only, are validated
here with the rules of `cinema.accounts.passwords` (so a weak one is a
FastAPI-shaped 422 whose body never repeats it), and no response model has a
password field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints
from pydantic_core import PydanticCustomError

from cinema.accounts import passwords
from cinema.accounts.tables import Gender, GroupName
from cinema.clock import IsoDate, utcnow
from cinema.text import NoControlCharacters

#: Most guest-cart ids accepted at register/login.
MAX_GUEST_CART = 100
#: PostgreSQL `integer` upper bound: larger ids cannot exist and must not reach the database.
MAX_ID = 2**31 - 1


def _strong(password: str) -> str:
    broken = passwords.problems(password)
    if broken:
        # The message names the broken rules, never the password; the API's 422
        # handler also drops `input` for password fields.
        raise PydanticCustomError("weak_password", "The password " + "; ".join(broken) + ".")
    return password


def _unique_ids(ids: list[int] | None) -> list[int] | None:
    return list(dict.fromkeys(ids)) if ids is not None else None


def _not_in_future(value: date | None) -> date | None:
    if value is not None and value > utcnow().date():
        raise PydanticCustomError("date_in_future", "The date of birth cannot be in the future.")
    return value


def _blank_to_none(value: str | None) -> str | None:
    return value or None


#: A new password: 8..64 characters, <= 72 UTF-8 bytes, lower, upper, digit and symbol,
#: no control characters (bcrypt cannot hash a NUL; none can be typed in a form).
NewPassword = Annotated[str, AfterValidator(_strong), NoControlCharacters()]
#: A password being checked (login, old password): any string of sane length. Never stored
#: nor echoed; a NUL simply never matches (`passwords.verify_password`), on every engine.
GivenPassword = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
#: An email used to look an account up. Not syntax-checked: an unknown one simply matches nothing.
LookupEmail = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=255), NoControlCharacters()
]
#: An emailed one-time token (43 URL-safe characters when we issue it).
EmailToken = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256), NoControlCharacters()
]
MovieId = Annotated[int, Field(gt=0, le=MAX_ID)]
#: Guest cart: positive movie ids, at most 100, duplicates dropped (first occurrence kept).
GuestCart = Annotated[
    list[MovieId] | None,
    Field(max_length=MAX_GUEST_CART, description="Movie ids of the guest cart to merge."),
    AfterValidator(_unique_ids),
]
Name = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NoControlCharacters()] | None,
    AfterValidator(_blank_to_none),
]


class RegisterIn(BaseModel):
    email: EmailStr
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


class ProfileUpdate(BaseModel):
    """PATCH body: only the fields sent change; `null` clears a field."""

    model_config = ConfigDict(extra="forbid")

    first_name: Name = None
    last_name: Name = None
    gender: Gender | None = None
    date_of_birth: Annotated[IsoDate | None, AfterValidator(_not_in_future)] = None
    info: Annotated[str, StringConstraints(max_length=5000), NoControlCharacters(multiline=True)] | None = (
        None
    )


class ProfileOut(BaseModel):
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
