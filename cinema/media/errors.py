"""Errors of the media domain, each with its stable `code` (docs/media.md)."""

from __future__ import annotations

from cinema.errors import NotFound, PermissionDenied


class NoMedia(NotFound):
    code = "no_media"
    default_detail = "This movie has no video to play yet."


class InvalidSignature(PermissionDenied):
    code = "invalid_signature"
    default_detail = "This media link is invalid or has expired. Ask for a new one."
