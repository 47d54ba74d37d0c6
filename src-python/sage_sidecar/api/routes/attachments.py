from fastapi import APIRouter, Request, status

from sage_sidecar.api.deps import StateDep
from sage_sidecar.api.errors import error_responses
from sage_sidecar.api.openapi import MULTIPART_FILES
from sage_sidecar.schemas.attachments import AttachmentOut
from sage_sidecar.services import attachments as service

router = APIRouter(prefix="/api/attachments", tags=["attachments"])


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
