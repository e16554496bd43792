"""Errors of the media domain, each with its stable `code` (docs/media.md)."""

from __future__ import annotations

from cinema.errors import CinemaError, Conflict, NotFound, PermissionDenied, UnsupportedMediaType


class NoMedia(NotFound):
    code = "no_media"
    default_detail = "This movie has no video to play yet."


class InvalidSignature(PermissionDenied):
    code = "invalid_signature"
    default_detail = "This media link is invalid or has expired. Ask for a new one."


class UploadNotFound(NotFound):
    code = "upload_not_found"
    default_detail = "No such upload for this movie."


class UploadNotInProgress(Conflict):
    code = "upload_not_in_progress"
    default_detail = "This upload is no longer in progress."


class RangeNotSatisfiable(CinemaError):
    status_code = 416
    code = "range_not_satisfiable"
    default_detail = "The requested range starts past the end of the file."


class TruncatedMedia(UnsupportedMediaType):
    code = "truncated_media"
    default_detail = "The video is truncated (an incomplete upload?). Upload the whole file."
