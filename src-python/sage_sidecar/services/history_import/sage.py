"""Sage's own export (`sage.conversation.v1`): one conversation, or a list of them."""

from typing import Any

from sage_sidecar.schemas.conversations import ConversationExport
from sage_sidecar.services.history_import.parsed import ParsedConversation, ParsedMessage

FORMAT = "sage.conversation.v1"


def looks_like(item: Any) -> bool:
    return isinstance(item, dict) and item.get("format") == FORMAT


def parse_one(item: Any) -> ParsedConversation:
    return _conversation(ConversationExport.model_validate(item))


def _conversation(data: ConversationExport) -> ParsedConversation:
    messages = []
    for item in data.messages:
        fields = item.model_dump(exclude_none=True, exclude={"role", "content", "created_at"})
        if fields.get("status") == "streaming":  # an export taken mid-reply
            fields["status"] = "interrupted"
        messages.append(ParsedMessage(item.role, item.content, item.created_at, fields))
    # An export from before ids were exported: its content identifies it.
    source_id = data.id or _digest(data)
    return ParsedConversation(
        source="sage",
        source_id=source_id,
        title=data.title,
        messages=messages,
        created_at=data.created_at,
        updated_at=data.updated_at,
    )


def _digest(data: ConversationExport) -> str:
    import hashlib

    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()
