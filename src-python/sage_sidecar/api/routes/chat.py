"""`/ws/chat`: streamed replies. Client frames in, protocol frames out (docs/protocol.md).

Several replies can stream on one connection at once; a reply keeps going (and is saved) if the
connection drops.
"""

import asyncio
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError

from sage_sidecar.api.deps import StateDep, websocket_authenticated
from sage_sidecar.core.config import Settings
from sage_sidecar.core.errors import DomainError
from sage_sidecar.services import attachments
from sage_sidecar.services.chat import ChatEngine, Emit

router = APIRouter()


class Send(BaseModel):
    content: str = Field(max_length=200_000)
    conversationId: str | None = None
    agentId: str | None = None
    attachments: list[str] = Field(default=[], max_length=10)  # ids from POST /api/attachments


class Target(BaseModel):
    messageId: str


class Edit(Target):
    content: str = Field(max_length=200_000)


class Approval(BaseModel):
    callId: str
    decision: str = Field(pattern="^(approve|deny|always)$")


async def _dispatch(
    engine: ChatEngine, settings: Settings, frame: dict[str, Any], emit: Emit
) -> dict[str, Any] | None:
    kind = frame.get("type")
    if kind == "chat.send":
        data = Send.model_validate(frame)
        parts = await asyncio.to_thread(attachments.message_parts, settings, data.attachments)
        started = await engine.send(data.content, emit, data.conversationId, data.agentId, parts)
        return {"type": "chat.accepted", "conversationId": started.conversation_id,
                "userMessageId": started.user_message_id, "messageId": started.message_id}  # fmt: skip
    if kind == "chat.regenerate":
        started = await engine.regenerate(Target.model_validate(frame).messageId, emit)
        return {"type": "chat.accepted", "conversationId": started.conversation_id,
                "messageId": started.message_id}  # fmt: skip
    if kind == "chat.edit":
        data = Edit.model_validate(frame)
        started = await engine.edit(data.messageId, data.content, emit)
        return {"type": "chat.accepted", "conversationId": started.conversation_id,
                "userMessageId": started.user_message_id, "messageId": started.message_id}  # fmt: skip
    if kind == "chat.cancel":
        message_id = Target.model_validate(frame).messageId
        if not engine.cancel(message_id):
            raise DomainError(f"no reply {message_id!r} is streaming")
        return None
    if kind == "tool.approval":
        data = Approval.model_validate(frame)
        if not engine.answer_approval(data.callId, data.decision):
            raise DomainError(f"no tool call {data.callId!r} is waiting for approval")
        return None
    raise DomainError(f"unknown frame type {kind!r}")


@router.websocket("/ws/chat")
async def chat(websocket: WebSocket, state: StateDep) -> None:
    if not await websocket_authenticated(websocket, state):
        return
    lock = asyncio.Lock()  # frames from concurrent replies must not interleave mid-send

    async def emit(frame: dict[str, Any]) -> None:
        async with lock:
            await websocket.send_json(frame)

    try:
        while True:
            text = await websocket.receive_text()
            try:
                frame = json.loads(text)
            except ValueError:
                frame = None
            request_id = frame.get("requestId") if isinstance(frame, dict) else None
            try:
                if not isinstance(frame, dict):
                    raise DomainError("frames must be JSON objects")
                reply = await _dispatch(state.chat, state.settings, frame, emit)
            except ValidationError as error:
                reply = {"type": "error", "error": _first_error(error)}
            except DomainError as error:
                reply = {"type": "error", "error": str(error)}
            if reply is not None:
                await emit({**reply, "requestId": request_id})
    except WebSocketDisconnect:
        return  # replies in flight keep running and are saved


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]
