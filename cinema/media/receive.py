"""A media file sent in an HTTP request body (multipart `file` field), checked and ingested.

Both doors that take a file in a request, `POST /movies/{id}/media` (the API)
and the admin's upload page (`cinema/admin/media.py`), call
`ingest_request`, so the admin can do nothing the API refuses: the same cap
(the kind's, and at most `MEDIA_DIRECT_UPLOAD_MAX_BYTES`), the same content
check, the same service (`assets.ingest_file`). See docs/media.md.

A declared `Content-Length` over the cap is refused before the body is read
(413), and the stream is counted while it is parsed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from cinema.config import get_settings
from cinema.errors import MalformedMultipart, MissingFile, NotMultipart
from cinema.media import assets
from cinema.media.schemas import IngestOut
from cinema.media.tables import MediaKind

#: Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
#: Bytes copied at a time from the parsed multipart file to the scratch file.
COPY_CHUNK = 1024 * 1024


def direct_limit(kind: MediaKind) -> int:
    """The largest `kind` file a request body may carry (bigger ones use a two-step upload)."""
    return min(assets.cap(kind), get_settings().media_direct_upload_max_bytes)


async def ingest_request(
    request: Request, movie_id: int, kind: MediaKind, *, uploaded_by: int | None
) -> IngestOut:
    """Receive the request's multipart `file` and make it the movie's `kind` (`assets.ingest_file`)."""
    limit = direct_limit(kind)
    async with assets.temp_file() as path:
        await receive_multipart(request, path, limit, kind)
        return await assets.ingest_file(movie_id, kind, path, uploaded_by=uploaded_by)


async def receive_multipart(request: Request, target: Path, limit: int, kind: MediaKind) -> None:
    """Copy the multipart `file` field to `target`, reading at most `limit` + overhead from the client."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise NotMultipart()
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
        raise MalformedMultipart(f"Malformed multipart body: {exc.message}", reason=exc.message) from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise MissingFile("The `file` field with the media file is required.")
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
