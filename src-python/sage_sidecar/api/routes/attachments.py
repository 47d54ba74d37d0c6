from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse

from sage_sidecar.api.deps import StateDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.api.openapi import MULTIPART_FILES
from sage_sidecar.schemas.attachments import AttachmentOut
from sage_sidecar.services import attachments as service

router = APIRouter(prefix="/api/attachments", tags=["attachments"], responses=COMMON_ERRORS)


@router.post(
    "",
    response_model=list[AttachmentOut],
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(413, 415, 422),
    openapi_extra=MULTIPART_FILES,
)
async def upload_attachments(request: Request, state: StateDep) -> list[AttachmentOut]:
    """Multipart upload of files to attach to the next message (send their ids in `chat.send`).
    Too large: 413; unsupported type: 415; unreadable: 422 with the reason."""
    return await service.upload(
        state.settings,
        state.knowledge.parser,
        request.headers.get("content-type", ""),
        request.stream(),
    )


# A stored image is PNG, JPEG or WebP (services/images.py); the schema says so, not JSON.
_IMAGE: dict[int | str, dict[str, Any]] = {200: {"content": {m: {"schema": {"type": "string", "format": "binary"}}
                            for m in ("image/png", "image/jpeg", "image/webp")}}}  # fmt: skip


@router.get(
    "/{attachment_id}/image",
    response_class=FileResponse,
    responses={**_IMAGE, **error_responses(404)},
)
async def attachment_image(attachment_id: str, state: StateDep) -> FileResponse:
    """An attached image as stored (downscaled), for the message's thumbnail and full view."""
    path, mime = service.image_path(state.settings, attachment_id)
    return FileResponse(path, media_type=mime, headers={"Cache-Control": "private, max-age=3600"})
