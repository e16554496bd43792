"""`PUT /accounts/me/avatar` (multipart `file`) and `DELETE /accounts/me/avatar` (docs/api.md, "Accounts").

The body is parsed here, not by FastAPI's `UploadFile` parameter, because
FastAPI reads the whole body before the handler runs: a declared
`Content-Length` over the cap is refused at once (413), and the stream is
counted while it is parsed, so an upload without a length (chunked) is cut
off as soon as it passes the cap, never buffered whole. The rules on the
bytes themselves (type from content, size) live in `cinema.accounts.avatars`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from fastapi import APIRouter, Request, Response, status
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from cinema.accounts import avatars
from cinema.accounts.errors import AvatarNotAnImage, AvatarTooLarge
from cinema.accounts.schemas import ProfileOut
from cinema.api.deps import SIGNED_IN_ERRORS, User
from cinema.api.errors import error_responses
from cinema.errors import EmptyFile, MalformedMultipart, MissingFile, NotMultipart

router = APIRouter(tags=["accounts"])

#: Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
MAX_BODY_BYTES = avatars.MAX_AVATAR_BYTES + MULTIPART_OVERHEAD
#: This router's request body caps by path, above the app-wide MAX_REQUEST_BODY_BYTES (`cinema.api.bodylimit`).
BODY_LIMITS = {"/accounts/me/avatar": MAX_BODY_BYTES}

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
                        "description": "A JPEG, PNG or WebP image of at most 5 MB (type checked from the bytes).",
                    }
                },
            }
        }
    },
}


async def read_upload(request: Request, limit: int = avatars.MAX_AVATAR_BYTES) -> bytes:
    """The bytes of the multipart `file` field, reading at most `limit` + overhead from the client.

    Raises `AvatarTooLarge` (413), `NotMultipart` (415) for a body that is not
    multipart, `MissingFile` (422) when the field is missing, and
    `MalformedMultipart` (400) for a malformed multipart body.
    """
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise NotMultipart()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise AvatarTooLarge()

    async def capped() -> AsyncGenerator[bytes, None]:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + MULTIPART_OVERHEAD:
                raise AvatarTooLarge()
            yield chunk

    parser = MultiPartParser(request.headers, capped(), max_files=1, max_fields=5, max_part_size=64 * 1024)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise MalformedMultipart(reason=exc.message) from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise MissingFile()
        data = await upload.read(limit + 1)
    finally:
        await form.close()
    if len(data) > limit:
        raise AvatarTooLarge()
    return data


@router.put(
    "/accounts/me/avatar",
    summary="Upload or replace my avatar",
    response_model=ProfileOut,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses=error_responses(
        *SIGNED_IN_ERRORS,
        MalformedMultipart,
        EmptyFile,
        AvatarTooLarge,
        NotMultipart,
        AvatarNotAnImage,
        MissingFile,
    ),
)
async def put_avatar(request: Request, user: User) -> ProfileOut:
    """Store the image under a server-made key and return the profile with its `avatar_url`."""
    data = await read_upload(request)
    return await avatars.set_avatar(user.id, data)


@router.delete(
    "/accounts/me/avatar",
    summary="Remove my avatar",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(*SIGNED_IN_ERRORS),
)
async def delete_avatar(user: User) -> Response:
    """Delete the stored image and clear `avatar_url` (204 also when there was none)."""
    await avatars.remove_avatar(user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
