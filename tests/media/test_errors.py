"""The media errors are declared once (cinema/media/errors.py) and documented from the classes."""

from __future__ import annotations

from cinema.api.app import create_app
from cinema.errors import REGISTRY
from cinema.media import errors


def test_each_media_code_is_one_registered_class() -> None:
    declared = {
        cls.code: cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and cls.__module__ == errors.__name__ and "code" in cls.__dict__
    }
    assert sorted(declared) == [
        "invalid_position",
        "invalid_signature",
        "no_media",
        "range_not_satisfiable",
        "truncated_media",
        "upload_incomplete",
        "upload_not_found",
        "upload_not_in_progress",
    ]
    for code, cls in declared.items():
        assert REGISTRY[code] is cls
    assert (errors.RangeNotSatisfiable.status_code, errors.TruncatedMedia.status_code) == (416, 415)
    assert errors.TruncatedMedia.code == "truncated_media"
    assert errors.MediaTooLarge.code == "payload_too_large"  # the shared code, a media sentence


def test_the_routes_document_the_declared_errors() -> None:
    paths = create_app().openapi()["paths"]
    complete = paths["/movies/{movie_id}/media/uploads/{upload_id}/complete"]["post"]["responses"]
    assert complete["409"]["description"] == (
        f"`upload_not_in_progress`: {errors.UploadNotInProgress.default_detail}; "
        f"`upload_incomplete`: {errors.UploadIncomplete.default_detail}"
    )
    assert "`truncated_media`" in complete["415"]["description"]
    stream = paths["/media-stream/{key}"]["get"]["responses"]
    assert (
        stream["416"]["description"]
        == f"`range_not_satisfiable`: {errors.RangeNotSatisfiable.default_detail}"
    )
    playback = paths["/movies/{movie_id}/playback"]["get"]["responses"]
    assert "`not_entitled`" in playback["403"]["description"]
    assert "`no_media`" in playback["404"]["description"]
