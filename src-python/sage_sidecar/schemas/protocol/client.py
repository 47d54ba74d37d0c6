"""Frames the UI sends: `auth` first on both sockets (core/security.py), then on `/ws/chat` one of
`ClientChatFrame`, validated by `CLIENT_CHAT_FRAMES` before anything runs."""

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from sage_sidecar.schemas.protocol.base import ProtocolModel

MAX_CONTENT = 200_000


class AuthFrame(ProtocolModel):
    type: Literal["auth"]  # no default: a frame must say what it is
    api_key: str


class ClientFrame(ProtocolModel):
    """`type` has no default here: the UI always says what a frame is (and its generated types
    require it)."""

    request_id: str | None = None  # echoed in the direct answer (`chat.accepted` or `error`)


class ChatSend(ClientFrame):
    type: Literal["chat.send"]
    content: str = Field(max_length=MAX_CONTENT)
    conversation_id: str | None = None  # a new conversation when absent
    agent_id: str | None = None  # the default agent when absent
    attachments: list[str] = Field(default=[], max_length=10)  # ids from POST /api/attachments


class ChatCancel(ClientFrame):
    type: Literal["chat.cancel"]
    message_id: str


class ChatRegenerate(ClientFrame):
    type: Literal["chat.regenerate"]
    message_id: str


class ChatEdit(ClientFrame):
    type: Literal["chat.edit"]
    message_id: str
    content: str = Field(max_length=MAX_CONTENT)


class ToolApproval(ClientFrame):
    type: Literal["tool.approval"]
    call_id: str
    decision: Literal["approve", "deny", "always"]


ClientChatFrame = Annotated[
    ChatSend | ChatCancel | ChatRegenerate | ChatEdit | ToolApproval,
    Field(discriminator="type"),
]
CLIENT_CHAT_FRAMES: TypeAdapter[ClientChatFrame] = TypeAdapter(ClientChatFrame)
