import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse

from sage_sidecar.api.deps import SessionDep, StateDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.core.errors import InvalidError, TooLargeError
from sage_sidecar.schemas.conversations import (
    ConversationCreate,
    ConversationExport,
    ConversationOut,
    ConversationUpdate,
    MessageOut,
    ModelChoiceOut,
    SearchHit,
)
from sage_sidecar.schemas.history_import import ImportReport
from sage_sidecar.schemas.timestamps import as_utc
from sage_sidecar.services import attachments, model_choice
from sage_sidecar.services import conversations as service
from sage_sidecar.services.conversation_html import export_html
from sage_sidecar.services.history_import import reading as history_reading
from sage_sidecar.services.history_import import service as history_import

router = APIRouter(prefix="/api/conversations", tags=["conversations"], responses=COMMON_ERRORS)
# SQLite's full-text query parser reads a NUL as the end of the query ("unterminated string").
SearchText = Annotated[str, Query(max_length=1000, pattern=r"^[^\x00]*$")]
# `?format=markdown` (or `html`) answers the same export as Markdown text (or an HTML page).
_MARKDOWN_TOO = {
    "content": {
        "text/markdown": {"schema": {"type": "string"}},
        "text/html": {"schema": {"type": "string"}},
    }
}
# The history import takes the file itself as the body: JSON, or a data export's zip.
_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get("", response_model=list[ConversationOut])
async def list_conversations(
    session: SessionDep, agent_id: str | None = None
) -> list[ConversationOut]:
    return [
        ConversationOut.model_validate(c)
        for c in await service.list_conversations(session, agent_id)
    ]


@router.post(
    "",
    response_model=ConversationOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404),
)
async def create_conversation(data: ConversationCreate, session: SessionDep) -> ConversationOut:
    return ConversationOut.model_validate(await service.create_conversation(session, data))


@router.get("/search", response_model=list[SearchHit])
async def search(q: SearchText, session: SessionDep) -> list[SearchHit]:
    """Titles and message text (substring match, any language)."""
    return await service.search(session, q)


@router.post(
    "/import",
    response_model=ConversationOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404),
)
async def import_conversation(data: ConversationExport, session: SessionDep) -> ConversationOut:
    return ConversationOut.model_validate(await service.import_json(session, data))


@router.post(
    "/import/history",
    response_model=ImportReport,
    openapi_extra=_FILE_BODY,
    responses=error_responses(404, 413, 422),
)
async def import_history(
    request: Request,
    session: SessionDep,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import a ChatGPT or Claude data export (its `conversations.json`, or the whole `.zip`) or
    Sage's own JSON export, for `agent_id` (the default agent when omitted). `dry_run` counts
    and stores nothing: the preview. A conversation imported before is skipped, never doubled."""
    data = await _read_capped(request, history_reading.MAX_UPLOAD)
    parsed = history_reading.parse_upload(data)
    return await history_import.run(session, parsed, agent_id=agent_id, dry_run=dry_run)


async def _read_capped(request: Request, limit: int) -> bytes:
    too_large = TooLargeError(
        "the file is too large to import", code="import.too_large", limit=limit
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/{conversation_id}", response_model=ConversationOut, responses=error_responses(404))
async def get_conversation(conversation_id: str, session: SessionDep) -> ConversationOut:
    return ConversationOut.model_validate(await service.get_conversation(session, conversation_id))


@router.patch("/{conversation_id}", response_model=ConversationOut, responses=error_responses(404))
async def update_conversation(
    conversation_id: str, data: ConversationUpdate, session: SessionDep
) -> ConversationOut:
    """Rename it, or choose the model its next replies use (`"model": null` for the agent's)."""
    changes = data.model_dump(exclude_unset=True)
    if changes.get("title", "") is None:
        raise InvalidError("title cannot be empty", code="conversation.empty_title")
    conversation = await service.update_conversation(session, conversation_id, changes)
    return ConversationOut.model_validate(conversation)


@router.get(
    "/{conversation_id}/model-choice", response_model=ModelChoiceOut, responses=error_responses(404)
)
async def get_model_choice(conversation_id: str, session: SessionDep) -> ModelChoiceOut:
    """The agent, provider and model the conversation's next reply will use."""
    conversation = await service.get_conversation(session, conversation_id)
    choice = await model_choice.choose(session, conversation.agent_id, conversation.model)
    return model_choice.to_out(choice)


@router.delete(
    "/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404)
)
async def delete_conversation(conversation_id: str, session: SessionDep) -> None:
    await service.delete_conversation(session, conversation_id)


@router.get(
    "/{conversation_id}/messages", response_model=list[MessageOut], responses=error_responses(404)
)
async def list_messages(conversation_id: str, session: SessionDep) -> list[MessageOut]:
    return [
        MessageOut.model_validate(m) for m in await service.list_messages(session, conversation_id)
    ]


@router.get(
    "/{conversation_id}/export",
    response_model=ConversationExport,
    responses={**error_responses(404), 200: _MARKDOWN_TOO},
)
async def export_conversation(
    conversation_id: str,
    session: SessionDep,
    state: StateDep,
    format: Literal["json", "markdown", "html"] = "json",
) -> ConversationExport | PlainTextResponse | HTMLResponse:
    conversation = await service.get_conversation(session, conversation_id)
    messages = await service.list_messages(session, conversation_id)
    images = await asyncio.to_thread(  # attached images travel inside the export
        attachments.export_images, state.settings, [m.parts for m in messages]
    )
    if format == "markdown":
        return PlainTextResponse(
            service.export_markdown(conversation, messages, images), media_type="text/markdown"
        )
    if format == "html":
        return HTMLResponse(export_html(conversation, messages, images))
    exported = service.export_json(conversation, messages, images)
    # Where it came from and when: a re-import of this file skips it instead of doubling it.
    # model_copy does not validate: the stored naive UTC times get their offset here.
    return exported.model_copy(
        update={
            "id": conversation.id,
            "created_at": as_utc(conversation.created_at),
            "updated_at": as_utc(conversation.updated_at),
        }
    )
