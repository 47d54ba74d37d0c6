"""Preview (count, store nothing) or import parsed conversations for one agent. A conversation
imported before (same source, same id) is skipped: its id is derived from the source's."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.schemas.history_import import ImportedItem, ImportReport
from sage_sidecar.services import agents
from sage_sidecar.services.history_import.parsed import ParsedConversation
from sage_sidecar.storage.models import Conversation, Message


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
    ids = [p.conversation_id for p in parsed]
    existing = set(
        (await session.scalars(select(Conversation.id).where(Conversation.id.in_(ids)))).all()
    ) if ids else set()  # fmt: skip
    items: list[ImportedItem] = []
    seen: set[str] = set()
    for conv in parsed:
        if not conv.messages:
            outcome = "empty"
        elif conv.conversation_id in existing or conv.conversation_id in seen:
            outcome = "already_imported"
        else:
            outcome = "new"
            seen.add(conv.conversation_id)
            if not dry_run:
                _add(session, conv, agent.id)
        items.append(
            ImportedItem(
                id=conv.conversation_id if outcome != "empty" else None,
                title=conv.title,
                messages=len(conv.messages),
                skipped_messages=conv.skipped_messages,
                branches_left_out=conv.branches_left_out,
                outcome=outcome,
            )
        )
    if not dry_run:
        await session.commit()
    new = [i for i in items if i.outcome == "new"]
    return ImportReport(
        source=parsed[0].source if parsed else None,
        dry_run=dry_run,
        agent_id=agent.id,
        conversations=len(new),
        messages=sum(i.messages for i in new),
        skipped=len(items) - len(new),
        skipped_messages=sum(i.skipped_messages for i in items),
        branches_left_out=sum(i.branches_left_out for i in items),
        items=items,
    )


def _add(session: AsyncSession, conv: ParsedConversation, agent_id: str) -> None:
    last = next((m.created_at for m in reversed(conv.messages) if m.created_at), None)
    conversation = Conversation(id=conv.conversation_id, agent_id=agent_id, title=conv.title)
    if conv.created_at or last:
        conversation.created_at = conv.created_at or last  # type: ignore[assignment]
    if conv.updated_at or last or conv.created_at:
        conversation.updated_at = conv.updated_at or last or conv.created_at  # type: ignore[assignment]
    session.add(conversation)
    for seq, message in enumerate(conv.messages, start=1):
        row = Message(
            conversation_id=conv.conversation_id,
            seq=seq,
            role=message.role,
            content=message.content,
            **message.extra,
        )
        if message.created_at:
            row.created_at = message.created_at
        session.add(row)
