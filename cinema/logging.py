"""Structured logs: one JSON object per line on stderr, tagged with the request id, never a secret.

Every record becomes `{"ts", "level", "logger", "msg", "request_id", ...extra}`;
`extra={...}` fields of a log call are kept as top-level keys. Redaction runs
on the message, the extras and tracebacks: `Authorization` values (Bearer and
Basic), JWTs, and the values of fields named like a secret (password, token,
secret, api key, cookie, signature) are replaced by `[REDACTED]`. The rule is
OWASP's logging cheat sheet: credentials and session tokens are never logged.

`configure_logging()` is idempotent; the API app factory and the taskiq worker
call it. Uvicorn's access log is switched off because it writes query strings
(which may hold an activation or reset token); `cinema.api.middleware` writes
the request log instead.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

REDACTED = "[REDACTED]"

#: The current request's id (set by the request middleware), or None outside a request.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("cinema_request_id", default=None)

#: Substrings of field names whose values are secrets.
SECRET_KEY_PARTS = (
    "auth",
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
    "signature",
    "client_secret",
    "csrf",
)

#: A field name (a run of word characters and dashes) holding one of the secret words.
#: The lookahead finds the word, then the run is taken whole and never given back
#: (`++`): backtracking through a run once per occurrence of the word was quadratic.
_SENSITIVE_FIELD = (
    r"(?:(?=[\w-]*?(?:password|passwd|secret|token|api[_-]?key|authorization|cookie|signature|csrf))[\w-]++)"
)
#: Each pattern may start a match only where a run of the characters it scans begins
#: (the `(?<!...)` lookbehinds): a pattern that could start anywhere inside a long run
#: rescans the rest of the run from every position, and a client-chosen path or query
#: string of 20 kB (`a-a-a-...password`) then held the event loop for seconds.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization: Bearer xxx / Basic xxx (header dumps, f-strings)
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # JSON Web Tokens anywhere (three base64url segments, the first a JSON header)
    (re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    # "password": "value" (JSON or Python reprs). A backslash is matched only as the start of
    # an escape and the value is never given back: with both `\\.` and `.` able to take a
    # backslash, an unclosed value of 40 backslashes took minutes (exponential backtracking).
    (
        re.compile(rf"""(?i)(["']{_SENSITIVE_FIELD}["']\s*:\s*)(["'])(?:\\.|(?!\2)[^\\\n])*+\2"""),
        rf"\1\2{REDACTED}\2",
    ),
    # password=value (query strings, key=value logs)
    (re.compile(rf"(?i)(?<![\w-])({_SENSITIVE_FIELD})=([^&\s,;'\"]+)"), rf"\1={REDACTED}"),
    # user:password@ in URLs (database, Redis, SMTP DSNs)
    (re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
    # Stripe secret keys and webhook secrets
    (re.compile(r"\b(sk|rk|whsec)_(live|test)?_?[A-Za-z0-9]{8,}"), REDACTED),
]

#: Text that every pattern above needs somewhere in a match (lowercase): a string
#: holding none of these is returned by `redact` as it is, after a few substring
#: checks instead of six regex substitutions. Most log strings (paths, methods,
#: addresses) are such strings; the benchmark (tests/perf) measured the six passes at 40 us of a
#: request's 55 us request-log line.
_TRIGGERS = (
    "bearer",
    "basic",
    "eyj",
    "passw",
    "secret",
    "token",
    "api_key",
    "api-key",
    "apikey",
    "authorization",
    "cookie",
    "signature",
    "csrf",
    "://",
    "sk_",
    "rk_",
    "whsec_",
)


def _may_hold_a_secret(text: str) -> bool:
    # Only ASCII text is judged by substrings: the patterns' (?i) also folds letters
    # such as the long s (U+017F) or the Kelvin sign (U+212A) that `lower()` leaves alone.
    if not text.isascii():
        return True
    lowered = text.lower()
    return any(trigger in lowered for trigger in _TRIGGERS)


_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


@functools.lru_cache(
    maxsize=1024
)  # field names repeat on every line; bounded, as query keys are the client's
def is_secret_key(name: str) -> bool:
    """True when a field called `name` holds a secret (case-insensitive substring match)."""
    folded = name.casefold().replace("-", "_").replace("\x00", "")  # long-s spellings, NUL bytes
    return any(part in folded for part in SECRET_KEY_PARTS)


def redact(text: str) -> str:
    """`text` with credentials, tokens and secret-named values replaced by `[REDACTED]`."""
    if not _may_hold_a_secret(text):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any, key: str | None = None) -> Any:
    """A JSON-able copy of `value` with secrets removed (by field name, then by content)."""
    if key is not None and is_secret_key(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [redact_value(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            payload["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key in _STANDARD_ATTRS or key.startswith("_") or key in payload:
                continue
            payload[key] = redact_value(value, key)
        if record.exc_info:
            payload["exc"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            payload["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(payload, default=str, ensure_ascii=False)


class _CinemaHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marker class so `configure_logging` recognises its own handler."""


def configure_logging(level: int | str = logging.INFO) -> logging.Handler:
    """Send every log record to stderr as redacted JSON lines. Idempotent; returns the handler."""
    root = logging.getLogger()
    for existing in root.handlers:
        if isinstance(existing, _CinemaHandler):
            return existing
    handler = _CinemaHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # Uvicorn's own loggers: errors go through our handler; its access log is
    # replaced by the request middleware's (it would print raw query strings).
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True
    # Libraries that log request bodies or credentials at DEBUG stay at WARNING.
    for name in ("botocore", "aiobotocore", "urllib3", "asyncio", "aiosqlite", "httpx", "stripe"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
