"""`/ws/chat`: streamed replies. Client frames in, protocol frames out (schemas/protocol,
docs/protocol.md).

Several replies can stream on one connection at once; a reply keeps going (and is saved) if the
connection drops.
"""

import asyncio
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from sage_sidecar.api.deps import StateDep, websocket_authenticated
from sage_sidecar.api.errors import COMMON_ERRORS
from sage_sidecar.core.config import Settings
from sage_sidecar.core.errors import DomainError
from sage_sidecar.schemas.protocol.base import dump
from sage_sidecar.schemas.protocol.chat import ChatAccepted, ErrorFrame, ServerChatFrame
from sage_sidecar.schemas.protocol.client import (
    CLIENT_CHAT_FRAMES,
    ChatCancel,
    ChatEdit,
    ChatRegenerate,
    ChatSend,
    ClientChatFrame,
    ToolApproval,
)
from sage_sidecar.services import attachments
from sage_sidecar.services.chat import ChatEngine
from sage_sidecar.services.turn import Emit

router = APIRouter(responses=COMMON_ERRORS)


async def _dispatch(
    engine: ChatEngine, settings: Settings, frame: ClientChatFrame, emit: Emit
) -> ChatAccepted | None:
    match frame:
        case ChatSend():
            parts = await asyncio.to_thread(attachments.message_parts, settings, frame.attachments)
            started = await engine.send(
                frame.content, emit, frame.conversation_id, frame.agent_id, parts
            )
        case ChatRegenerate():
            started = await engine.regenerate(frame.message_id, emit)
        case ChatEdit():
            started = await engine.edit(frame.message_id, frame.content, emit)
        case ChatCancel():
            if not engine.cancel(frame.message_id):
                raise DomainError(
                    f"no reply {frame.message_id!r} is streaming",
                    code="chat.not_streaming",
                    messageId=frame.message_id,
                )
            return None
        case ToolApproval():
            if not engine.answer_approval(frame.call_id, frame.decision):
                raise DomainError(
                    f"no tool call {frame.call_id!r} is waiting for approval",
                    code="chat.no_pending_approval",
                    callId=frame.call_id,
                )
            return None
    return ChatAccepted(request_id=frame.request_id, conversation_id=started.conversation_id,
                        message_id=started.message_id, user_message_id=started.user_message_id)  # fmt: skip


@router.websocket("/ws/chat")
async def chat(websocket: WebSocket, state: StateDep) -> None:
    if not await websocket_authenticated(websocket, state):
        return
    lock = asyncio.Lock()  # frames from concurrent replies must not interleave mid-send

    async def send(frame: ServerChatFrame) -> None:
        """Every frame this socket sends goes through here, as its model says."""
        async with lock:
            await websocket.send_json(dump(frame))

    try:
        while True:
            text = await websocket.receive_text()
            request_id = _request_id(text)
            try:
                frame = CLIENT_CHAT_FRAMES.validate_json(text)
                reply: ChatAccepted | ErrorFrame | None = await _dispatch(
                    state.chat, state.settings, frame, send
                )
            except ValidationError as error:
                reply = ErrorFrame(request_id=request_id, error=_first_error(error))
            except DomainError as error:
                reply = ErrorFrame(request_id=request_id, error=str(error), code=error.code,
                                   params=error.params)  # fmt: skip
            if reply is not None:
                await send(reply)
    except WebSocketDisconnect:
        return  # replies in flight keep running and are saved


def _request_id(text: str) -> str | None:
    """The `requestId` of a frame, even of one too broken to validate, so its error is matched."""
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    request_id = frame.get("requestId") if isinstance(frame, dict) else None
    return request_id if isinstance(request_id, str) else None


def _first_error(error: ValidationError) -> str:
    """One readable line for the first problem of a client frame."""
    first = error.errors()[0]
    kind, context = first["type"], first.get("ctx") or {}
    if kind in ("json_invalid", "dict_type"):
        return "frames must be JSON objects"
    if kind == "union_tag_not_found":
        return "frames need a type"
    if kind == "union_tag_invalid":
        return f"unknown frame type {context.get('tag')!r}"
    where = ".".join(str(p) for p in first["loc"][1:])  # loc[0] is the frame's type
    return f"{where}: {first['msg']}" if where else first["msg"]
