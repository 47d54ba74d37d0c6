"""ChatGPT's data export: `conversations.json`, a list of conversations, each a `mapping` tree of
nodes (parent, children). Editing a message or regenerating a reply starts a branch; the one
the user last saw ends at `current_node`, and that branch is what is imported."""

from typing import Any

from pydantic import BaseModel, Field

from sage_sidecar.services.history_import.parsed import (
    ParsedConversation,
    ParsedMessage,
    Role,
    from_epoch,
    merge_turns,
    short_title,
)

NODE_LIMIT = 200_000  # per conversation; a real one has hundreds


class Author(BaseModel):
    role: str


class Content(BaseModel):
    content_type: str
    parts: list[Any] | None = None
    text: str | None = None  # content_type "code"
    language: str | None = None


class Message(BaseModel):
    author: Author
    content: Content | None = None
    create_time: float | None = None
    metadata: dict[str, Any] = {}


class Node(BaseModel):
    id: str | None = None
    message: Message | None = None
    parent: str | None = None
    children: list[str] = []


class Conversation(BaseModel):
    """Unknown fields (there are many, and they change) are ignored."""

    id: str | None = None
    conversation_id: str | None = None
    title: str | None = None
    create_time: float | None = None
    update_time: float | None = None
    mapping: dict[str, Node] = Field(max_length=NODE_LIMIT)
    current_node: str | None = None


def looks_like(item: Any) -> bool:
    return isinstance(item, dict) and "mapping" in item


def parse_one(item: Any) -> ParsedConversation:
    return _conversation(Conversation.model_validate(item))


def _conversation(conv: Conversation) -> ParsedConversation:
    path = _branch(conv)
    messages: list[ParsedMessage] = []
    skipped = 0
    for node_id in path:
        message = conv.mapping[node_id].message
        if message is None:  # the tree's root
            continue
        text = _text(message)
        if message.author.role not in ("user", "assistant") or text is None or _hidden(message):
            skipped += 1
            continue
        role: Role = "user" if message.author.role == "user" else "assistant"
        messages.append(ParsedMessage(role, text, from_epoch(message.create_time)))
    return ParsedConversation(
        source="chatgpt",
        source_id=conv.conversation_id or conv.id or _fallback_id(conv),
        title=short_title(conv.title),
        messages=merge_turns(messages),
        created_at=from_epoch(conv.create_time),
        updated_at=from_epoch(conv.update_time),
        skipped_messages=skipped,
        branches_left_out=_other_leaves(conv, set(path)),
    )


def _branch(conv: Conversation) -> list[str]:
    """Root → current_node (or, without one, → the last child at every step). A parent cycle or
    a dangling parent ends the walk instead of looping."""
    end = conv.current_node if conv.current_node in conv.mapping else None
    if end is None:
        roots = [k for k, n in conv.mapping.items() if n.parent not in conv.mapping]
        end = roots[0] if roots else None
        while end is not None:
            children = [c for c in conv.mapping[end].children if c in conv.mapping]
            if not children:
                break
            end = children[-1]
    path: list[str] = []
    seen: set[str] = set()
    while end is not None and end in conv.mapping and end not in seen:
        seen.add(end)
        path.append(end)
        end = conv.mapping[end].parent
    return path[::-1]


def _other_leaves(conv: Conversation, on_path: set[str]) -> int:
    return sum(1 for k, n in conv.mapping.items() if not n.children and k not in on_path)


def _hidden(message: Message) -> bool:
    return bool(message.metadata.get("is_visually_hidden_from_conversation"))


def _text(message: Message) -> str | None:
    """The message as Markdown, or None for content that is not conversation (reasoning,
    browsing displays, tool output)."""
    content = message.content
    if content is None:
        return None
    if content.content_type == "code" and content.text is not None:
        return f"```{content.language or ''}\n{content.text}\n```".replace("```unknown", "```")
    if content.content_type not in ("text", "multimodal_text"):
        return None
    pieces: list[str] = []
    for part in content.parts or []:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, dict) and part.get("content_type") == "image_asset_pointer":
            pieces.append("[image]")  # the picture itself is not in conversations.json
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            pieces.append(part["text"])
    text = "\n\n".join(p for p in pieces if p.strip())
    return text or None


def _fallback_id(conv: Conversation) -> str:
    return f"{conv.title}|{conv.create_time}"
