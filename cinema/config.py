"""Settings from the environment and `.env` (pydantic-settings).

Every switch between the embedded default and production is one of these
variables (docs/architecture.md, "Environment variables"). Unset means the embedded
default: SQLite file, in-process tasks, `.eml` outbox, local media. Payments
are the exception: the sandbox gateway (which lets a customer mark their own
payment successful) runs only when chosen with `PAYMENT_GATEWAY=sandbox`, and
never in production (`cinema demo`, what `dev.py run` starts, chooses it).

Settings that cannot run safely are refused when they are read
(`ValidationError`); `settings_error_line` turns that into the one line the
API and the CLI print before exiting.
"""

from __future__ import annotations

import json
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The JWT secret shipped for local development. Production refuses it.
PLACEHOLDER_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me"

PaymentGatewayName = Literal["stripe", "sandbox"]


class Settings(BaseSettings):
    """Typed view of the environment. Durations are in the unit their name says."""

    # CINEMA_ENV_FILE="" disables the .env file (the tests do, so a developer's
    # .env cannot point them at a real database or SMTP server).
    model_config = SettingsConfigDict(
        env_file=os.environ.get("CINEMA_ENV_FILE", ".env") or None, extra="ignore"
    )

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///var/cinema.sqlite"
    redis_url: str | None = None

    jwt_secret_key: str = PLACEHOLDER_JWT_SECRET
    access_token_ttl_minutes: int = Field(15, ge=1)
    refresh_token_ttl_days: int = Field(14, ge=1)
    activation_token_ttl_hours: int = Field(24, ge=1)
    reset_token_ttl_hours: int = Field(1, ge=1)
    #: bcrypt work factor; 12 is the OWASP floor for production, tests lower it.
    password_hash_rounds: int = Field(12, ge=4, le=16)
    #: Failed logins allowed per account (and per client address) in the window.
    login_max_failures: int = Field(5, ge=1)
    login_failure_window_minutes: int = Field(15, ge=1)
    #: Anonymous email requests (forgot password, resend activation) per target address
    #: and per client address in the window; beyond, nothing is sent (same 202 answer).
    email_max_per_address: int = Field(3, ge=1)
    email_max_per_client: int = Field(10, ge=1)
    email_throttle_window_minutes: int = Field(60, ge=1)

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "Cinema <no-reply@cinema.local>"
    mail_outbox_dir: Path = Path("var/outbox")
    public_base_url: str = "http://127.0.0.1:8000"

    #: `stripe` or `sandbox`; unset means Stripe when STRIPE_API_KEY is set, else no gateway
    #: (payments answer 503). The sandbox must be chosen by name and is refused in production.
    payment_gateway: PaymentGatewayName | None = None
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    currency: str = "usd"

    s3_endpoint_url: str | None = None
    s3_bucket: str = "cinema-media"
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    #: Endpoint browsers use for presigned avatar URLs when it differs from
    #: S3_ENDPOINT_URL (compose: the API reaches `minio:9000`, browsers `localhost:9000`).
    s3_public_endpoint_url: str | None = None
    media_dir: Path = Path("var/media")

    #: Largest request body in bytes (413 `payload_too_large` beyond); uploads have their own caps.
    max_request_body_bytes: int = Field(1024 * 1024, ge=1024)
    docs_public: bool = False
    #: Comma-separated origins allowed by CORS (`https://a.example,https://b.example`).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Cron schedule (UTC) of the expired-token cleanup task.
    token_purge_cron: str = "0 * * * *"
    #: Redis broker: how long a delivered but unacknowledged task message waits
    #: before another worker claims it (a worker killed mid-task never acks).
    #: Must exceed the longest task (an SMTP send times out at 30 s).
    task_redelivery_seconds: float = Field(600.0, gt=0)
    #: How long a worker blocks for new messages before checking for abandoned ones.
    task_poll_seconds: float = Field(2.0, gt=0)

    # Media (docs/media.md). Caps are checked before a body is read (413).
    media_max_feature_bytes: int = Field(20 * 1024**3, ge=1)
    media_max_trailer_bytes: int = Field(2 * 1024**3, ge=1)
    media_max_poster_bytes: int = Field(10 * 1024**2, ge=1)
    #: Largest file `POST /movies/{id}/media` takes in its body; bigger ones go
    #: through `POST /movies/{id}/media/uploads` and never pass through the API.
    media_direct_upload_max_bytes: int = Field(200 * 1024**2, ge=1)
    #: Lifetime of a playback URL (S3 presigned GET or local signed URL); a
    #: player asks `/playback` again when it expires. S3 allows at most 7 days.
    playback_url_ttl_seconds: int = Field(3600, ge=10, le=7 * 24 * 3600)
    #: How long an upload may stay unfinished before the scheduler removes it.
    media_upload_ttl_seconds: int = Field(24 * 3600, ge=60)
    #: Cron schedule (UTC) of the abandoned-upload cleanup task.
    media_cleanup_cron: str = "23 * * * *"
    #: HMAC key of local signed media URLs; unset derives one from JWT_SECRET_KEY.
    media_url_secret: str | None = None
    #: Local mode: where videos and uploads live, outside MEDIA_DIR (which the app
    #: serves publicly). Unset: MEDIA_DIR's sibling `<name>-private`.
    media_private_dir: Path | None = None
    #: Base URL of the public poster prefix (a CDN or a public-read bucket); unset:
    #: `PUBLIC_BASE_URL/media` locally, `<S3 public endpoint>/<bucket>` on S3.
    media_public_base_url: str | None = None

    # Entitlements (docs/entitlements.md).
    #: Days a renter has to start watching a paid rental.
    rental_start_days: int = Field(30, ge=1, le=3650)
    #: Hours a rental runs once its first playback URL is issued.
    rental_hours: int = Field(48, ge=1, le=24 * 365)
    #: Cron schedule (UTC) of the task that warns renters a day before a rental ends.
    rental_reminder_cron: str = "*/10 * * * *"
    #: Days after payment during which a refund may be requested.
    refund_window_days: int = Field(14, ge=0, le=3650)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # Comma-separated (the documented form) or a JSON list.
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("currency")
    @classmethod
    def _lower_currency(cls, value: str) -> str:
        return value.lower()

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment == "production" and (
            self.jwt_secret_key == PLACEHOLDER_JWT_SECRET or len(self.jwt_secret_key) < 32
        ):
            raise ValueError(
                "JWT_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_payments(self) -> Settings:
        # The sandbox marks payments successful on the customer's word: a production
        # shop on it would give movies away, so production needs real Stripe keys.
        if self.payment_gateway == "stripe" and not self.stripe_api_key:
            raise ValueError("PAYMENT_GATEWAY=stripe needs STRIPE_API_KEY.")
        if self.environment == "production":
            if self.payment_gateway == "sandbox":
                raise ValueError(
                    "PAYMENT_GATEWAY=sandbox is refused in production: set STRIPE_API_KEY "
                    "and STRIPE_WEBHOOK_SECRET instead."
                )
            if not (self.stripe_api_key and self.stripe_webhook_secret):
                raise ValueError(
                    "Production needs Stripe: set STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET "
                    "(the sandbox gateway is for development only)."
                )
        return self

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def gateway(self) -> PaymentGatewayName | None:
        """The payment gateway in use: `PAYMENT_GATEWAY`, else Stripe when keyed, else None (none)."""
        if self.payment_gateway is not None:
            return self.payment_gateway
        return "stripe" if self.stripe_api_key else None

    @property
    def private_media_dir(self) -> Path:
        """Local folder of videos and uploads (never served as static files)."""
        return self.media_private_dir or self.media_dir.with_name(f"{self.media_dir.name}-private")

    @property
    def uses_stripe(self) -> bool:
        """True when payments go through Stripe (or an emulator at STRIPE_API_BASE)."""
        return self.gateway == "stripe"

    @property
    def uses_sandbox(self) -> bool:
        """True only when the sandbox gateway was chosen explicitly (never in production)."""
        return self.gateway == "sandbox"


def settings_error_line(exc: ValidationError) -> str:
    """One line saying which settings are wrong and why (for a refusal to start)."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        problems.append(f"{field.upper()}: {message}" if field else message)
    return "Invalid settings: " + "; ".join(problems)


def settings_or_exit() -> Settings:
    """`get_settings()`, or exit the process with one line saying what is wrong.

    For the code that runs when a process starts (the app factory, the task
    broker and the Piccolo engine, built at import): unsafe or invalid
    settings stop the API, the CLI and the workers with that line and exit
    code 3 (the CLI's code for infrastructure and configuration), not a traceback.
    """
    try:
        return get_settings()
    except ValidationError as exc:
        print(f"Error: Cinema cannot start. {settings_error_line(exc)}", file=sys.stderr)
        raise SystemExit(3) from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests call `get_settings.cache_clear()`."""
    return Settings()
