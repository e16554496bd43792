"""Request and response shapes of the media API (docs/media.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cinema.media.tables import AssetStatus, MediaKind

#: Largest size a client may announce for an upload (S3's 5 TiB object limit).
MAX_ANNOUNCED_BYTES = 5 * 1024**4


class AssetOut(BaseModel):
    """One media asset of a movie, as moderators see it."""

    id: int
    movie_id: int
    kind: MediaKind
    status: AssetStatus
    content_type: str | None
    size_bytes: int | None
    sha256: str | None
    duration_seconds: float | None
    width: int | None
    height: int | None
    codecs: str | None
    error: str | None = Field(None, description="Why the content was refused (status `failed`).")
    uploaded_by: int | None
    created_at: datetime
    updated_at: datetime


class IngestOut(BaseModel):
    """The asset after an upload; `unchanged` when the same bytes were already the ready asset."""

    asset: AssetOut
    unchanged: bool = False


class PlaybackOut(BaseModel):
    """`GET /movies/{id}/playback` and `/trailer`. Ask again for a new URL when `expires_at` passes."""

    url: str
    expires_at: datetime
    content_type: str
    duration_seconds: float
    resume_position_seconds: float | None = Field(
        None, description="Where the caller stopped watching (the feature only); null when not started."
    )


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position_seconds: float = Field(ge=0, allow_inf_nan=False, description="0..the feature's duration.")


class WatchEntry(BaseModel):
    """One movie in `/me/continue-watching` or `/me/history`."""

    movie_id: int
    name: str
    year: int
    poster_url: str | None
    position_seconds: float
    duration_seconds: float | None
    finished: bool = Field(description="Watched to 95 % of the duration or more.")
    started_at: datetime
    last_watched_at: datetime


class UploadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: MediaKind
    size_bytes: int = Field(gt=0, le=MAX_ANNOUNCED_BYTES, description="Size of the file to upload.")


class UploadOut(BaseModel):
    """Where to send the file: PUT each part (S3) or the whole file (local) to its URL, then complete."""

    upload_id: int
    kind: MediaKind
    method: str = "PUT"
    part_size: int
    urls: list[str]
    expires_at: datetime
