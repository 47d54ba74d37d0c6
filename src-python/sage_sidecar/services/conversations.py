"""Conversations and their messages."""

from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.schemas.conversations import (
    ConversationCreate,
    ConversationExport,
    ExportedMessage,
    SearchHit,
)
from sage_sidecar.schemas.protocol.base import dump
from sage_sidecar.schemas.protocol.parts import Failure
from sage_sidecar.services import agents
from sage_sidecar.storage.models import Conversation, Message
from sage_sidecar.storage.rows import get_or_raise
from sage_sidecar.storage.search import search_messages


async def list_conversations(
    session: AsyncSession, agent_id: str | None = None
) -> list[Conversation]:
    query = select(Conversation).order_by(Conversation.updated_at.desc())
    if agent_id:
        query = query.where(Conversation.agent_id == agent_id)
    return list((await session.scalars(query)).all())


async def get_conversation(session: AsyncSession, conversation_id: str) -> Conversation:
    return await get_or_raise(session, Conversation, conversation_id, "conversation")


async def create_conversation(session: AsyncSession, data: ConversationCreate) -> Conversation:
    agent = (
        await agents.get_agent(session, data.agent_id)
        if data.agent_id
        else await agents.default_agent(session)
    )
    conversation = Conversation(agent_id=agent.id, title=data.title or "New chat")
    session.add(conversation)
    await session.commit()
    return conversation


async def update_conversation(
    session: AsyncSession, conversation_id: str, changes: dict[str, Any]
) -> Conversation:
    """Rename, or pick the model for the next replies (`model: None` → the agent's)."""
    conversation = await get_conversation(session, conversation_id)
    for field in ("title", "model"):
        if field in changes:
            setattr(conversation, field, changes[field])
    if "model_params" in changes:  # already validated and dumped by ConversationUpdate
        conversation.model_params = {k: v for k, v in (changes["model_params"] or {}).items()
                                     if v is not None}  # fmt: skip
    await session.commit()
    return conversation


async def delete_conversation(session: AsyncSession, conversation_id: str) -> None:
    await session.delete(await get_conversation(session, conversation_id))
    await session.commit()


async def list_messages(session: AsyncSession, conversation_id: str) -> list[Message]:
    await get_conversation(session, conversation_id)
    query = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
    return list((await session.scalars(query)).all())


async def next_seq(session: AsyncSession, conversation_id: str) -> int:
    """The conversation's next place, for a message inserted in this same transaction.

    A no-op write comes first: it takes the database's write lock (a row lock elsewhere) for the
    rest of the transaction, so a concurrent send to this conversation waits for this one to
    commit before it reads max(seq). (messages has a unique (conversation_id, seq) besides.)"""
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(id=Conversation.id, updated_at=Conversation.updated_at)  # changes nothing
        .execution_options(synchronize_session=False)
    )
    current = await session.scalar(
        select(func.max(Message.seq)).where(Message.conversation_id == conversation_id)
    )
    return (current or 0) + 1


async def mark_interrupted_streams(session: AsyncSession) -> int:
    """At start-up: a message still `streaming` was cut off by a crash or kill. Its text up to the
    last flush is kept; only the status changes."""
    result = await session.execute(
        update(Message)
        .where(Message.status == "streaming")
        .values(
            status="interrupted",
            error="The app stopped while this reply was being written.",
            failure=dump(Failure(reason="app_stopped")),
        )
    )
    await session.commit()
    return cast("CursorResult[Any]", result).rowcount or 0


def export_json(
    conversation: Conversation, messages: list[Message], images: dict[str, str] | None = None
) -> ConversationExport:
    """`images`: attached images' data URLs by attachment id, written into their parts
    (`dataUrl`) so the file holds them."""
    exported = [ExportedMessage.model_validate(m, from_attributes=True) for m in messages]
    for item in exported:  # a model's thinking is not part of the conversation one shares
        item.parts = [_with_image(p, images) for p in item.parts if p.get("type") != "reasoning"]
    return ConversationExport(title=conversation.title, messages=exported)


def _with_image(part: dict[str, Any], images: dict[str, str] | None) -> dict[str, Any]:
    url = (images or {}).get(str(part.get("id"))) if part.get("type") == "image" else None
    return {**part, "dataUrl": url} if url else part


def export_markdown(
    conversation: Conversation, messages: list[Message], images: dict[str, str] | None = None
) -> str:
    lines = [f"# {conversation.title}", ""]
    for message in messages:
        speaker = "You" if message.role == "user" else "Assistant"
        lines.append(f"## {speaker}")
        lines.append("")
        for part in message.parts:
            if part.get("type") == "tool_call":
                lines.append(f"> Tool call `{part.get('name')}` `{part.get('arguments')}`")
            elif part.get("type") == "tool_result":
                lines.append(f"> Result of `{part.get('name')}`: {part.get('content')}")
            elif part.get("type") == "image" and (images or {}).get(str(part.get("id"))):
                lines.append(f"![{part.get('name')}]({(images or {})[str(part['id'])]})")
        if message.parts:
            lines.append("")
        lines.append(message.content or "")
        if message.citations:  # the sources its [n] markers point to
            lines.append("")
            for cite in message.citations:
                where = ", ".join(str(x) for x in (cite.get("fileName"),
                                  cite.get("page") and f"page {cite['page']}", cite.get("heading")) if x)  # fmt: skip
                lines.append(f"[{cite.get('number')}]: {where}")
        if message.status != "completed":
            lines.append("")
            lines.append(f"*({message.status}{': ' + message.error if message.error else ''})*")
        lines.append("")
    return "\n".join(lines)


async def import_json(session: AsyncSession, data: ConversationExport) -> Conversation:
    agent = await agents.default_agent(session)
    conversation = Conversation(agent_id=agent.id, title=data.title)
    session.add(conversation)
    await session.flush()
    for seq, item in enumerate(data.messages, start=1):
        fields = item.model_dump(exclude_none=True)
        if fields.get("status") == "streaming":  # an export taken mid-reply
            fields["status"] = "interrupted"
        session.add(Message(conversation_id=conversation.id, seq=seq, **fields))
    await session.commit()
    return conversation


async def search(session: AsyncSession, query: str) -> list[SearchHit]:
    hits = await search_messages(session, query)
    return [SearchHit(**vars(hit)) for hit in hits]
