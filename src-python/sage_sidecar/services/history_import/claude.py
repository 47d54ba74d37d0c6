"""Claude's data export: `conversations.json`, a list of conversations with `uuid`, `name` and
`chat_messages` ({sender: human|assistant, text, content: [blocks], created_at})."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from sage_sidecar.schemas.timestamps import UtcDateTime
from sage_sidecar.services.history_import.parsed import (
    ParsedConversation,
    ParsedMessage,
    Role,
    merge_turns,
    short_title,
)


class Block(BaseModel):
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    sender: Literal["human", "assistant"] | str
    text: str | None = None
    content: list[Block] | None = None
    created_at: UtcDateTime | None = None


class Conversation(BaseModel):
    uuid: str = Field(min_length=1, max_length=200)
    name: str | None = None
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None
    chat_messages: list[ChatMessage] = Field(max_length=100_000)


def looks_like(item: Any) -> bool:
    return isinstance(item, dict) and "chat_messages" in item


def parse_one(item: Any) -> ParsedConversation:
    return _conversation(Conversation.model_validate(item))


def _conversation(conv: Conversation) -> ParsedConversation:
    messages: list[ParsedMessage] = []
    skipped = 0
    for message in conv.chat_messages:
        text = _text(message)
        if message.sender not in ("human", "assistant") or not text:
            skipped += 1
            continue
        role: Role = "user" if message.sender == "human" else "assistant"
        messages.append(ParsedMessage(role, text, message.created_at))
    return ParsedConversation(
        source="claude",
        source_id=conv.uuid,
        title=short_title(conv.name),
        messages=merge_turns(messages),
        created_at=conv.created_at,
        updated_at=conv.updated_at,
        skipped_messages=skipped,
    )


def _text(message: ChatMessage) -> str:
    """The text blocks when there are any (tool use and thinking blocks are left out), else
    the flat `text` older exports have."""
    if message.content:
        blocks = [b.text for b in message.content if b.type == "text" and b.text]
        if blocks:
            return "\n\n".join(blocks).strip()
    return (message.text or "").strip()
