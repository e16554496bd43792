"""Staff upload a movie's poster or trailer from the admin (docs/admin.md, "Media").

piccolo_admin's forms post JSON only (no file field), so the admin has a
small page of its own, `/admin/media-upload/` (static/media-upload.html, linked
from the sidebar), which posts the file to `/admin/api/media-upload/`:

- behind the admin's session (the `/api` mount's authentication) and its
  CSRF check (the `X-CSRFToken` header, like every admin write);
- MODERATOR and above, read fresh from the database (`require_staff`);
- through the API's own path, `cinema.media.receive.ingest_request`: the same
  cap, content check and service as `POST /movies/{id}/media`, with the staff
  member recorded as the uploader. Posters and trailers only: a feature is
  too large for a request body (`cinema movies media upload` or the two-step
  API);
- answers like the API: 201 `{"asset", "unchanged", "detail"}`, or the
  service's refusal as `{"detail", "code"}` with the API's status.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from cinema.accounts.actor import GroupName
from cinema.admin.access import require_staff
from cinema.db import MAX_ID
from cinema.errors import CinemaError, ValidationFailed
from cinema.media import receive
from cinema.media.tables import MediaKind

STATIC = Path(__file__).with_name("static")
PAGE = STATIC / "media-upload.html"
PAGE_SCRIPT = STATIC / "media-upload.js"
#: What the admin page uploads (a feature goes through the CLI or the two-step API).
KINDS = (MediaKind.POSTER, MediaKind.TRAILER)


def _movie_id(value: str | None) -> int:
    if value is None or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise ValidationFailed("Give the movie's id (Catalog > Movies).", code="validation_error")
    return int(value)


def _kind(value: str | None) -> MediaKind:
    if value not in {kind.value for kind in KINDS}:
        raise ValidationFailed(
            "The admin uploads a poster or a trailer; upload a feature with "
            "`cinema movies media upload` or POST /movies/{id}/media/uploads.",
            code="validation_error",
        )
    return MediaKind(value)


async def upload(request: Request) -> Response:
    """`POST /admin/api/media-upload/?movie_id=&kind=poster|trailer` with a multipart `file`."""
    staff = await require_staff(request, GroupName.MODERATOR)
    try:
        movie_id = _movie_id(request.query_params.get("movie_id"))
        kind = _kind(request.query_params.get("kind"))
        result = await receive.ingest_request(request, movie_id, kind, uploaded_by=staff.id)
    except CinemaError as exc:
        return JSONResponse({"detail": exc.detail, "code": exc.code}, status_code=exc.status_code)
    asset = result.asset
    detail = (
        f"Movie #{movie_id} already has this {kind.value}; nothing changed."
        if result.unchanged
        else f"Movie #{movie_id}'s {kind.value} is ready ({asset.content_type}, {asset.size_bytes} bytes)."
    )
    return JSONResponse({**result.model_dump(mode="json"), "detail": detail}, status_code=201)


async def page(request: Request) -> Response:
    """The upload page (static; what it posts is checked by `upload`)."""
    return HTMLResponse(PAGE.read_text(), headers={"Cache-Control": "no-store"})


async def page_script(request: Request) -> Response:
    return Response(PAGE_SCRIPT.read_text(), media_type="text/javascript")
