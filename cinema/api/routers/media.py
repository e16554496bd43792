"""HTTP routes of the media domain (docs/media.md): assets for moderators, playback,
trailers, watch progress, and the local signed stream and upload URLs. Thin:
parse, call one service function, render.

`POST /movies/{id}/media` parses its multipart body itself, like the avatar
upload: a declared `Content-Length` over the cap is refused before the body is
read (413), and the stream is counted while it is parsed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from cinema.api.deps import Moderator, Paging, PathId, User
from cinema.api.errors import ErrorBody
from cinema.api.responses import json_model
from cinema.config import get_settings
from cinema.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from cinema.media import assets, playback, progress
from cinema.media.schemas import AssetOut, IngestOut, PlaybackOut, ProgressIn, UploadIn, UploadOut, WatchEntry
from cinema.media.storage import STREAM_PATH, UPLOAD_PATH
from cinema.media.tables import MediaKind
from cinema.pagination import Page

router = APIRouter(tags=["media"])

#: Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
#: Bytes copied at a time from the parsed multipart file to the scratch file.
COPY_CHUNK = 1024 * 1024


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "Malformed body.",
        401: "Not signed in.",
        403: "Needs the MODERATOR role, or `not_entitled`, or `invalid_signature`.",
        404: "Unknown movie (`not_found`) or no such media (`no_media`).",
        409: "The upload is not in progress or incomplete.",
        413: "Over the size cap of the kind (`payload_too_large`).",
        415: "Not an accepted media type (`unsupported_media_type`).",
        416: "Range not satisfiable.",
        422: "Invalid input.",
    }
    # 422 keeps FastAPI's validation schema (the docs add the `{"detail", "code"}` shape).
    return {
        code: {"description": described[code]}
        if code == 422
        else {"model": ErrorBody, "description": described[code]}
        for code in codes
    }


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


async def _receive_multipart(request: Request, target: Path, limit: int, kind: MediaKind) -> None:
    """Copy the multipart `file` field to `target`, reading at most `limit` + overhead from the client."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            "Send the file as multipart/form-data in a field named `file`.", code="unsupported_media_type"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise assets.too_large(kind, limit)

    async def capped() -> AsyncGenerator[bytes, None]:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + MULTIPART_OVERHEAD:
                raise assets.too_large(kind, limit)
            yield chunk

    parser = MultiPartParser(request.headers, capped(), max_files=1, max_fields=5, max_part_size=64 * 1024)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidInput(f"Malformed multipart body: {exc.message}", code="invalid_multipart") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed("The `file` field with the media file is required.")
        await asyncio.to_thread(_copy, upload, target)
    finally:
        await form.close()
    if (await asyncio.to_thread(target.stat)).st_size > limit:
        raise assets.too_large(kind, limit)


def _copy(upload: UploadFile, target: Path) -> None:
    upload.file.seek(0)
    with target.open("wb") as out:
        while chunk := upload.file.read(COPY_CHUNK):
            out.write(chunk)


@router.post(
    "/movies/{movie_id}/media",
    summary="Upload a small media file (poster, short trailer)",
    response_model=IngestOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses=_errors(400, 401, 403, 404, 413, 415, 422),
)
async def upload_media(
    request: Request, movie_id: PathId, kind: Annotated[MediaKind, Query()], user: Moderator
) -> IngestOut:
    """Check the file's content and make it the movie's `kind` asset, replacing the previous one.

    At most the kind's cap and `MEDIA_DIRECT_UPLOAD_MAX_BYTES`; bigger files use
    `POST /movies/{id}/media/uploads`. The same bytes again answer `unchanged: true`.
    """
    limit = min(assets.cap(kind), get_settings().media_direct_upload_max_bytes)
    async with assets.temp_file() as path:
        await _receive_multipart(request, path, limit, kind)
        return await assets.ingest_file(movie_id, kind, path, uploaded_by=user.id)


@router.get(
    "/movies/{movie_id}/media",
    summary="A movie's media assets",
    response_model=list[AssetOut],
    responses=_errors(401, 403, 404),
)
async def list_media(movie_id: PathId, user: Moderator) -> list[AssetOut]:
    return await assets.list_assets(movie_id)


@router.delete(
    "/movies/{movie_id}/media/{kind}",
    summary="Remove a movie's media asset",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_errors(401, 403, 404, 422),
)
async def remove_media(movie_id: PathId, kind: MediaKind, user: Moderator) -> Response:
    await assets.remove_asset(movie_id, kind)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/movies/{movie_id}/media/uploads",
    summary="Start a large upload (presigned part URLs on S3, a signed URL locally)",
    response_model=UploadOut,
    status_code=status.HTTP_201_CREATED,
    responses=_errors(401, 403, 404, 413, 422),
)
async def start_upload(movie_id: PathId, body: UploadIn, user: Moderator) -> UploadOut:
    """PUT the file (or each `part_size` part, in order, to its URL) and then call `complete`."""
    return await assets.start_upload(movie_id, body.kind, body.size_bytes, uploaded_by=user.id)


@router.post(
    "/movies/{movie_id}/media/uploads/{upload_id}/complete",
    summary="Finish an upload: check the content and make the asset ready",
    response_model=AssetOut,
    responses=_errors(401, 403, 404, 409, 413, 415),
)
async def complete_upload(movie_id: PathId, upload_id: PathId, user: Moderator) -> AssetOut:
    return await assets.complete_upload(movie_id, upload_id)


@router.get(
    "/movies/{movie_id}/playback",
    summary="A playback URL of the movie, for a caller entitled to watch it",
    response_model=PlaybackOut,
    responses=_errors(401, 403, 404),
)
async def get_playback(movie_id: PathId, user: User) -> Response:
    """The URL lives `PLAYBACK_URL_TTL_SECONDS`; ask again once `expires_at` has passed."""
    return json_model(await playback.playback(user, movie_id))


@router.get(
    "/movies/{movie_id}/trailer",
    summary="A playback URL of the movie's trailer (anyone)",
    response_model=PlaybackOut,
    responses=_errors(404),
)
async def get_trailer(movie_id: PathId) -> Response:
    return json_model(await playback.trailer(movie_id))


@router.put(
    "/movies/{movie_id}/progress",
    summary="Save where I am in the movie",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_errors(401, 403, 404, 422),
)
async def put_progress(movie_id: PathId, body: ProgressIn, user: User) -> Response:
    await progress.save_progress(user, movie_id, body.position_seconds)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/movies/{movie_id}/progress",
    summary="Forget where I stopped in the movie",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_errors(401),
)
async def delete_progress(movie_id: PathId, user: User) -> Response:
    await progress.clear_progress(user, movie_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/me/continue-watching", summary="Movies I started and did not finish", response_model=Page[WatchEntry]
)
async def continue_watching(user: User, paging: Paging) -> dict[str, Any]:
    return await progress.continue_watching(user, paging)


@router.get("/me/history", summary="What I watched, and when", response_model=Page[WatchEntry])
async def watch_history(user: User, paging: Paging) -> dict[str, Any]:
    return await progress.history(user.id, paging)


class MediaFileResponse(FileResponse):
    """Starlette's `FileResponse` (Range, 206, 416, ETag, If-Range, streamed from disk) in larger chunks."""

    chunk_size = 512 * 1024


@router.get(
    STREAM_PATH + "/{key:path}",
    summary="A video behind a signed playback URL (local mode)",
    response_class=MediaFileResponse,
    responses=_errors(403, 404, 416),
)
async def stream(
    key: str,
    user: Annotated[int, Query(ge=0)],
    expires: Annotated[int, Query(ge=0, le=2**40)],
    signature: Annotated[str, Query(max_length=100, pattern=r"^[A-Za-z0-9_=-]*$")],
) -> MediaFileResponse:
    """Answers `Range` requests with 206 and `Content-Range`; `Cache-Control: private`."""
    path, content_type = playback.stream_file(key, user, expires, signature)
    return MediaFileResponse(
        path,
        media_type=content_type,
        stat_result=os.stat(path),
        headers={"Cache-Control": "private"},
        content_disposition_type="inline",
    )


router.add_api_route(STREAM_PATH + "/{key:path}", stream, methods=["HEAD"], include_in_schema=False)


@router.put(
    UPLOAD_PATH + "/{key:path}",
    summary="The body of a signed upload URL (local mode)",
    responses=_errors(403, 413, 422),
)
async def receive_upload(
    request: Request,
    key: str,
    max_bytes: Annotated[int, Query(ge=1)],
    expires: Annotated[int, Query(ge=0, le=2**40)],
    signature: Annotated[str, Query(max_length=100, pattern=r"^[A-Za-z0-9_=-]*$")],
) -> dict[str, int]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"The upload was opened for {max_bytes} bytes.", code="payload_too_large")
    received = await assets.receive_local_upload(key, max_bytes, expires, signature, request.stream())
    return {"received_bytes": received}
