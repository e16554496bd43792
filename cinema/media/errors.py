"""The media domain's error conditions: one class, one `code`, one sentence each (docs/media.md).

Registered like every `cinema.errors` class (`REGISTRY`), so the routes'
OpenAPI `responses=` are built from them (`cinema.api.errors.error_responses`).
A raise may give a more precise sentence (which codec, which size); the
class's `default_detail` is the condition's sentence in the documentation.
"""

from __future__ import annotations

from cinema.errors import (
    CinemaError,
    Conflict,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedMediaType,
    ValidationFailed,
)


class NoMedia(NotFound):
    code = "no_media"
    default_detail = "This movie has no video to play yet."


class InvalidSignature(PermissionDenied):
    code = "invalid_signature"
    default_detail = "This media link is invalid or has expired. Ask for a new one."


class MediaTooLarge(PayloadTooLarge):
    """Over the cap of the file's kind (`MEDIA_MAX_*_BYTES`, `MEDIA_DIRECT_UPLOAD_MAX_BYTES` in a body)."""

    default_detail = "The file is larger than its kind allows."


class UnsupportedMedia(UnsupportedMediaType):
    """Not an accepted type for its kind, read from the bytes (docs/media.md, "Accepted content")."""

    default_detail = (
        "The file is not an accepted type for its kind: MP4 (H.264/AAC) or WebM (VP8/VP9/AV1 with "
        "Opus/Vorbis) for a video, JPEG, PNG or WebP for a poster."
    )


class TruncatedMedia(UnsupportedMedia):
    code = "truncated_media"
    default_detail = "The video is truncated (an incomplete upload?). Upload the whole file."


class UploadNotFound(NotFound):
    code = "upload_not_found"
    default_detail = "No such upload for this movie."


class UploadNotInProgress(Conflict):
    code = "upload_not_in_progress"
    default_detail = "This upload is no longer in progress."


class UploadIncomplete(Conflict):
    code = "upload_incomplete"
    default_detail = "The upload is incomplete: send every part before completing it."


class RangeNotSatisfiable(CinemaError):
    status_code = 416
    code = "range_not_satisfiable"
    default_detail = "The requested range starts past the end of the file."


class InvalidPosition(ValidationFailed):
    code = "invalid_position"
    default_detail = "The position must be between 0 and the movie's duration."
