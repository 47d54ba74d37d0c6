"""Preview (count, store nothing) or import parsed conversations for one agent.

A conversation's id is derived from its source's, so importing the same export again never
doubles it: one already here is skipped, or, when the file holds more of it than is stored (the
chat went on in the other app) and what is stored is the start of it unchanged, the new messages
are appended. A conversation edited here since (regenerated, edited) is left alone."""

from collections import defaultdict
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.schemas.history_import import ImportedItem, ImportReport
from sage_sidecar.services import agents
from sage_sidecar.services.history_import.parsed import ParsedConversation, ParsedMessage
from sage_sidecar.storage.models import Conversation, Message

Outcome = Literal["new", "updated", "already_imported", "empty"]


async def run(
    session: AsyncSession,
    parsed: list[ParsedConversation],
    *,
    agent_id: str | None,
    dry_run: bool,
) -> ImportReport:
    agent = (
        await agents.get_agent(session, agent_id)
        if agent_id
        else await agents.default_agent(session)
    )
    stored = await _stored_messages(session, [p.conversation_id for p in parsed])
    items: list[ImportedItem] = []
    for conv in parsed:
        outcome, added = _plan(conv, stored)
        if outcome == "new":
            stored[conv.conversation_id] = [(m.role, m.content) for m in conv.messages]
            if not dry_run:
                _add_conversation(session, conv, agent.id)
        elif outcome == "updated":
            start = len(stored[conv.conversation_id])
            stored[conv.conversation_id] = [(m.role, m.content) for m in conv.messages]
            if not dry_run:
                _add_messages(session, conv.conversation_id, conv.messages[start:], start + 1)
                existing = await session.get(Conversation, conv.conversation_id)
                last = conv.messages[-1].created_at
                if existing is not None and (when := conv.updated_at or last):
                    existing.updated_at = when  # it moves up the list, as it did there
        items.append(
            ImportedItem(
                id=None if outcome == "empty" else conv.conversation_id,
                title=conv.title,
                messages=len(conv.messages),
                added=added,
                skipped_messages=conv.skipped_messages,
                branches_left_out=conv.branches_left_out,
                outcome=outcome,
            )
        )
    if not dry_run:
        await session.commit()
    return ImportReport(
        source=parsed[0].source if parsed else None,
        dry_run=dry_run,
        agent_id=agent.id,
        conversations=sum(1 for i in items if i.outcome == "new"),
        updated=sum(1 for i in items if i.outcome == "updated"),
        messages=sum(i.added for i in items),
        skipped=sum(1 for i in items if i.outcome in ("already_imported", "empty")),
        skipped_messages=sum(i.skipped_messages for i in items),
        branches_left_out=sum(i.branches_left_out for i in items),
        items=items,
    )


def _plan(
    conv: ParsedConversation, stored: dict[str, list[tuple[str, str]]]
) -> tuple[Outcome, int]:
    if not conv.messages:
        return "empty", 0
    here = stored.get(conv.conversation_id)
    if here is None:
        return "new", len(conv.messages)
    incoming = [(m.role, m.content) for m in conv.messages]
    if len(incoming) > len(here) and incoming[: len(here)] == here:
        return "updated", len(incoming) - len(here)
    return "already_imported", 0


async def _stored_messages(
    session: AsyncSession, ids: list[str]
) -> dict[str, list[tuple[str, str]]]:
    """Each already-imported conversation's (role, content) in order; absent ids are new."""
    found: dict[str, list[tuple[str, str]]] = {}
    for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters
        chunk = ids[start : start + 500]
        present = (
            await session.scalars(select(Conversation.id).where(Conversation.id.in_(chunk)))
        ).all()
        rows = await session.execute(
            select(Message.conversation_id, Message.role, Message.content)
            .where(Message.conversation_id.in_(present))
            .order_by(Message.conversation_id, Message.seq)
        )
        grouped: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for conversation_id, role, content in rows:
            grouped[conversation_id].append((role, content))
        found.update({cid: grouped[cid] for cid in present})
    return found


def _add_conversation(session: AsyncSession, conv: ParsedConversation, agent_id: str) -> None:
    last = next((m.created_at for m in reversed(conv.messages) if m.created_at), None)
    conversation = Conversation(id=conv.conversation_id, agent_id=agent_id, title=conv.title)
    if created := conv.created_at or last:
        conversation.created_at = created
    if updated := conv.updated_at or last or conv.created_at:
        conversation.updated_at = updated
    session.add(conversation)
    _add_messages(session, conv.conversation_id, conv.messages, 1)


def _add_messages(
    session: AsyncSession, conversation_id: str, messages: list[ParsedMessage], first_seq: int
) -> None:
    for seq, message in enumerate(messages, start=first_seq):
        row = Message(
            conversation_id=conversation_id,
            seq=seq,
            role=message.role,
            content=message.content,
            **message.extra,
        )
        if message.created_at:
            row.created_at = message.created_at
        session.add(row)
