"""The bases of every domain error, and the errors no single domain owns.

Services raise these; the API maps `status_code` and `code` to
`{"detail": ..., "code": ...}` and the CLI prints the same `detail` in red
and exits 1. Each domain declares its own conditions in its `errors.py`
(cinema/accounts/errors.py, ...) as subclasses of the bases here.
`code` values are part of the public contract (docs/errors.md): never rename one.
"""

from __future__ import annotations

from typing import Any

#: Every error class with its own `code`, in declaration order: the source of the
#: error-code table (docs/errors.md, `python -m cinema.api.errordoc`).
REGISTRY: dict[str, type[CinemaError]] = {}
#: Every declared condition (a class with its own code or sentence) by its dotted
#: name, in declaration order, including those that keep a parent's code (e.g.
#: another sentence for `inactive_account`): the rows of the error-code table.
DECLARED: dict[str, type[CinemaError]] = {}


class CinemaError(Exception):
    """Base of all domain errors. `detail` is a sentence for a person.

    Each condition is one class, declared once in its domain's `errors.py`
    with its `code`, HTTP `status_code` and `default_detail` (for example
    `MovieNotFound(NotFound)`, `code = "movie_not_found"`). A class that sets
    its own `code` is registered; two classes may not claim one code unless
    one subclasses the other (the same condition family, e.g. a 401 that
    keeps the public `invalid_token` code of the 400 one). Raise the class
    without a sentence (its `default_detail` is the one sentence of that
    condition); facts that vary go in keyword arguments, which become extra
    fields of the JSON body.
    """

    status_code: int = 400
    code: str = "bad_request"
    default_detail: str = "The request could not be processed."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__ or "default_detail" in cls.__dict__:
            DECLARED[f"{cls.__module__}.{cls.__qualname__}"] = cls
        if "code" in cls.__dict__:
            claimed = REGISTRY.get(cls.code)
            if claimed is not None:
                # A subclass may keep its parent's code (the same condition, answered
                # differently, e.g. with another WWW-Authenticate challenge).
                if issubclass(cls, claimed) or claimed.__qualname__ == cls.__qualname__:
                    return
                raise TypeError(
                    f"error code {cls.code!r} is declared twice: {claimed.__qualname__}, {cls.__qualname__}"
                )
            REGISTRY[cls.code] = cls

    def __init__(self, detail: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.default_detail
        if code is not None:
            self.code = code
        #: Extra JSON fields for the error body (e.g. `carts` for `movie_in_carts`).
        self.extra = extra
        super().__init__(self.detail)


class InvalidInput(CinemaError):
    status_code = 400
    code = "invalid_input"
    default_detail = "The input is not valid."


class NotAuthenticated(CinemaError):
    status_code = 401
    code = "not_authenticated"
    default_detail = "Authentication credentials are missing or invalid."


class PermissionDenied(CinemaError):
    status_code = 403
    code = "permission_denied"
    default_detail = "You are not allowed to do this."


class NotFound(CinemaError):
    status_code = 404
    code = "not_found"
    default_detail = "Not found."


class Conflict(CinemaError):
    status_code = 409
    code = "conflict"
    default_detail = "The request conflicts with the current state."


class PayloadTooLarge(CinemaError):
    status_code = 413
    code = "payload_too_large"
    default_detail = "The upload is too large."


class UnsupportedMediaType(CinemaError):
    status_code = 415
    code = "unsupported_media_type"
    default_detail = "The upload is not of a supported type."


class ValidationFailed(CinemaError):
    """Input that is well-formed but breaks a rule (e.g. a weak password): 422."""

    status_code = 422
    code = "validation_error"
    default_detail = "The input breaks a validation rule."


class TooManyRequests(CinemaError):
    status_code = 429
    code = "too_many_requests"
    default_detail = "Too many attempts. Try again later."

    def __init__(self, detail: str | None = None, *, retry_after: int = 60, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class InternalError(CinemaError):
    """A fault of the server, not of the request (logged with its traceback)."""

    status_code = 500
    code = "internal_error"
    default_detail = "Internal server error."


class PaymentGatewayError(CinemaError):
    status_code = 502
    code = "payment_gateway_error"
    default_detail = "The payment provider could not be reached. Try again."


class ServiceUnavailable(CinemaError):
    status_code = 503
    code = "service_unavailable"
    default_detail = "A backing service is unavailable. Try again shortly."


# Answered by the API's error handlers for failures that are no domain's
# (cinema/api/errors.py), declared here so the error-code table lists them.


class MethodNotAllowed(CinemaError):
    status_code = 405
    code = "method_not_allowed"
    default_detail = "Method Not Allowed"


class ConcurrentChange(Conflict):
    """A row the request relied on changed meanwhile (a unique or foreign key failed at commit)."""

    code = "concurrent_change"
    default_detail = "The data changed while the request ran. Reload and try again."


class InvalidCharacters(ValidationFailed):
    code = "invalid_characters"
    default_detail = "The text contains characters that cannot be stored (e.g. NUL)."


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    default_detail = "The database is unavailable. Try again shortly."


class DatabaseBusy(ServiceUnavailable):
    code = "database_busy"
    default_detail = "The database is busy. Try again shortly."


# Uploads (multipart bodies), shared by every upload route.


class NotMultipart(UnsupportedMediaType):
    default_detail = "Send the file as multipart/form-data in a field named `file`."


class MalformedMultipart(InvalidInput):
    """The body's `reason` field says what the multipart parser refused."""

    code = "invalid_multipart"
    default_detail = "The multipart body is malformed."


class MissingFile(ValidationFailed):
    default_detail = "The `file` field with the file is required."


class EmptyFile(InvalidInput):
    code = "empty_file"
    default_detail = "The file is empty."
