"""HTTP routes of the media domain (docs/media.md): assets for moderators, playback,
trailers, watch progress, and the local signed stream and upload URLs. Thin:
parse, call one service function, render.

`POST /movies/{id}/media` parses its multipart body itself, like the avatar
upload (`cinema.media.receive`, shared with the admin's upload page): a
declared `Content-Length` over the cap is refused before the body is read
(413), and the stream is counted while it is parsed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse
from starlette.types import Receive, Scope, Send

from cinema.api.deps import ROLE_ERRORS, SIGNED_IN_ERRORS, BearerToken, Moderator, Paging, PathId, User
from cinema.api.errors import error_response, error_responses
from cinema.api.responses import json_model
from cinema.catalog.errors import MovieNotFound
from cinema.entitlements.errors import NotEntitled
from cinema.errors import (
    MalformedMultipart,
    MissingFile,
    NotMultipart,
)
from cinema.media import assets, playback, progress, receive
from cinema.media.errors import (
    InvalidPosition,
    InvalidSignature,
    MediaTooLarge,
    NoMedia,
    RangeNotSatisfiable,
    TruncatedMedia,
    UnsupportedMedia,
    UploadIncomplete,
    UploadNotFound,
    UploadNotInProgress,
)
from cinema.media.schemas import AssetOut, IngestOut, PlaybackOut, ProgressIn, UploadIn, UploadOut, WatchEntry
from cinema.media.storage import STREAM_PATH, UPLOAD_PATH
from cinema.media.tables import MediaKind
from cinema.pagination import Page

router = APIRouter(tags=["media"])


_UPLOADED = (MediaTooLarge, UnsupportedMedia, TruncatedMedia)


_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "MP4 (H.264/AAC) or WebM (VP8/VP9/AV1, Opus/Vorbis) video, "
                        "or a JPEG, PNG or WebP poster; checked from the bytes.",
                    }
                },
            }
        }
    },
}


class _Unsatisfiable(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


#: One range-spec of RFC 9110, 14.1.1: `first-last`, `first-` or `-suffix`.
_RANGE_SPEC = re.compile(r"^(?:([0-9]+)-([0-9]*)|-([0-9]+))$")
#: Longer numbers are past any file: compared as this (int() refuses over 4300 digits).
_HUGE = 10**18


def _number(digits: str) -> int:
    return int(digits) if len(digits) < len(str(_HUGE)) else _HUGE


def parse_range(header: str, size: int, max_ranges: int = 100) -> list[tuple[int, int]]:
    """The byte ranges `[start, end)` a `Range` header asks of a `size`-byte file (RFC 9110, 14.2).

    - An invalid header (another unit, a range-spec that is not one, `5-2`
      with its last position before its first, too many ranges) is ignored:
      [] and the whole file is sent with 200;
    - ranges past the end are dropped; when none is left the range is
      unsatisfiable (`_Unsatisfiable`: 416 with `Content-Range: bytes */size`);
    - overlapping ranges are merged.
    """
    unit, _, range_set = header.partition("=")
    if unit.strip().lower() != "bytes" or size == 0:
        return []
    specs = [part.strip() for part in range_set.split(",") if part.strip()]
    if not specs or len(specs) > max_ranges:
        return []
    ranges: list[tuple[int, int]] = []
    for spec in specs:
        match = _RANGE_SPEC.match(spec)
        if match is None:
            return []
        first, last, suffix = match.groups()
        if suffix is not None:
            length = _number(suffix)
            if length > 0:
                ranges.append((max(size - length, 0), size))
            continue
        start = _number(first)
        if last and _number(last) < start:
            return []  # `last-pos` before `first-pos`: an invalid range-spec
        if start < size:
            ranges.append((start, min(_number(last) + 1, size) if last else size))
    if not ranges:
        raise _Unsatisfiable(size)
    ranges.sort()
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class MediaFileResponse(FileResponse):
    """Starlette's `FileResponse` (206, `Content-Range`, `ETag`, `If-Range`, streamed from disk),
    with RFC 9110's reading of `Range` (`parse_range`): an invalid header is ignored (200, the
    whole file), an unsatisfiable one is a JSON 416 `range_not_satisfiable` with
    `Content-Range: bytes */size`. No plain-text error.
    """

    #: Bytes per read and per body message: a player's typical range (1 MiB) is one of each.
    #: (Measured with 64 viewers: Starlette's own reads in 1 MiB chunks beat 512 KiB chunks
    #: and a one-hop `os.pread` per chunk, which stalled the event loop under load.)
    chunk_size = 1024 * 1024

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        return parse_range(http_range, file_size, cls.max_ranges)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except _Unsatisfiable as exc:  # raised while parsing, before anything was sent
            error = RangeNotSatisfiable()
            response = error_response(
                error.status_code, error.detail, error.code, {"Content-Range": f"bytes */{exc.size}"}
            )
            if scope.get("method", "GET").upper() == "HEAD":
                response.body = b""
            await response(scope, receive, send)


@router.get(
    STREAM_PATH + "/{key:path}",
    summary="A video behind a signed playback URL (local mode)",
    response_class=MediaFileResponse,
    responses=error_responses(InvalidSignature, NoMedia, RangeNotSatisfiable),
)
async def stream(
    key: str,
    user: Annotated[int, Query(ge=0)],
    expires: Annotated[int, Query(ge=0, le=2**40)],
    signature: Annotated[str, Query(max_length=100, pattern=r"^[A-Za-z0-9_=-]*$")],
) -> MediaFileResponse:
    """Answers `Range` requests with 206 and `Content-Range`; `Cache-Control: private`."""
    path, found, content_type = playback.stream_file(key, user, expires, signature)
    return MediaFileResponse(
        path,
        media_type=content_type,
        stat_result=found,
        headers={"Cache-Control": "private"},
        content_disposition_type="inline",
    )


router.add_api_route(STREAM_PATH + "/{key:path}", stream, methods=["HEAD"], include_in_schema=False)


@router.get(
    "/movies/{movie_id}/playback",
    summary="A playback URL of the movie, for a caller entitled to watch it",
    response_model=PlaybackOut,
    responses=error_responses(*SIGNED_IN_ERRORS, NotEntitled, MovieNotFound, NoMedia),
)
async def get_playback(request: Request, movie_id: PathId, token: BearerToken) -> Response:
    """The URL lives `PLAYBACK_URL_TTL_SECONDS`; ask again once `expires_at` has passed."""
    # The service authenticates the token in the statement that reads the feature (one round trip).
    caller, answer = await playback.playback(token, movie_id)
    request.state.user_id = caller.id
    return json_model(answer)


@router.put(
    "/movies/{movie_id}/progress",
    summary="Save where I am in the movie",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(*SIGNED_IN_ERRORS, NotEntitled, MovieNotFound, NoMedia, InvalidPosition),
)
async def put_progress(movie_id: PathId, body: ProgressIn, user: User) -> Response:
    await progress.save_progress(user, movie_id, body.position_seconds)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/movies/{movie_id}/trailer",
    summary="A playback URL of the movie's trailer (anyone)",
    response_model=PlaybackOut,
    responses=error_responses(MovieNotFound, NoMedia),
)
async def get_trailer(movie_id: PathId) -> Response:
    return json_model(await playback.trailer(movie_id))


@router.get(
    "/me/continue-watching",
    summary="Movies I started, did not finish and may watch",
    response_model=Page[WatchEntry],
    responses=error_responses(*SIGNED_IN_ERRORS),
)
async def continue_watching(user: User, paging: Paging) -> dict[str, Any]:
    return await progress.continue_watching(user, paging)


@router.get(
    "/me/history",
    summary="What I watched, and when",
    response_model=Page[WatchEntry],
    responses=error_responses(*SIGNED_IN_ERRORS),
)
async def watch_history(user: User, paging: Paging) -> dict[str, Any]:
    return await progress.history(user.id, paging)


@router.delete(
    "/movies/{movie_id}/progress",
    summary="Forget where I stopped in the movie",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(*SIGNED_IN_ERRORS),
)
async def delete_progress(movie_id: PathId, user: User) -> Response:
    await progress.clear_progress(user, movie_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/movies/{movie_id}/media",
    summary="Upload a small media file (poster, short trailer)",
    response_model=IngestOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses=error_responses(
        *ROLE_ERRORS, MovieNotFound, NotMultipart, MalformedMultipart, MissingFile, *_UPLOADED
    ),
)
async def upload_media(
    request: Request, movie_id: PathId, kind: Annotated[MediaKind, Query()], user: Moderator
) -> IngestOut:
    """Check the file's content and make it the movie's `kind` asset, replacing the previous one.

    At most the kind's cap and `MEDIA_DIRECT_UPLOAD_MAX_BYTES`; bigger files use
    `POST /movies/{id}/media/uploads`. The same bytes again answer `unchanged: true`.
    """
    return await receive.ingest_request(request, movie_id, kind, uploaded_by=user.id)


@router.get(
    "/movies/{movie_id}/media",
    summary="A movie's media assets",
    response_model=list[AssetOut],
    responses=error_responses(*ROLE_ERRORS, MovieNotFound),
)
async def list_media(movie_id: PathId, user: Moderator) -> list[AssetOut]:
    return await assets.list_assets(movie_id)


@router.delete(
    "/movies/{movie_id}/media/{kind}",
    summary="Remove a movie's media asset",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(*ROLE_ERRORS, MovieNotFound, NoMedia),
)
async def remove_media(movie_id: PathId, kind: MediaKind, user: Moderator) -> Response:
    await assets.remove_asset(movie_id, kind)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/movies/{movie_id}/media/uploads",
    summary="Start a large upload (presigned part URLs on S3, a signed URL locally)",
    response_model=UploadOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*ROLE_ERRORS, MovieNotFound, MediaTooLarge),
)
async def start_upload(movie_id: PathId, body: UploadIn, user: Moderator) -> UploadOut:
    """PUT the file (or each `part_size` part, in order, to its URL) and then call `complete`."""
    return await assets.start_upload(movie_id, body.kind, body.size_bytes, uploaded_by=user.id)


@router.post(
    "/movies/{movie_id}/media/uploads/{upload_id}/complete",
    summary="Finish an upload: check the content and make the asset ready",
    response_model=AssetOut,
    responses=error_responses(
        *ROLE_ERRORS, UploadNotFound, UploadNotInProgress, UploadIncomplete, *_UPLOADED
    ),
)
async def complete_upload(movie_id: PathId, upload_id: PathId, user: Moderator) -> AssetOut:
    return await assets.complete_upload(movie_id, upload_id)


@router.put(
    UPLOAD_PATH + "/{key:path}",
    summary="The body of a signed upload URL (local mode)",
    responses=error_responses(InvalidSignature, UploadNotFound, UploadNotInProgress, MediaTooLarge),
)
async def receive_upload(
    request: Request,
    key: str,
    upload: Annotated[int, Query(ge=1, le=2**63 - 1)],
    max_bytes: Annotated[int, Query(ge=1)],
    expires: Annotated[int, Query(ge=0, le=2**40)],
    signature: Annotated[str, Query(max_length=100, pattern=r"^[A-Za-z0-9_=-]*$")],
) -> dict[str, int]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise MediaTooLarge(f"The upload was opened for {max_bytes} bytes.", max_bytes=max_bytes)
    received = await assets.receive_local_upload(key, upload, max_bytes, expires, signature, request.stream())
    return {"received_bytes": received}
