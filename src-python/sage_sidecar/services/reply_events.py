"""Replies as app-wide events: what happened to a reply is also published on the event bus
(`/ws/events`), not only to the `/ws/chat` connection that asked for it. A window that shows
something else, or an app that is hidden in the tray, learns that a reply is done or that a tool
waits for approval; the desktop UI turns these into native notifications (docs/desktop.md).

The events are `ReplyFinished` and `ApprovalRequiredEvent` (schemas/protocol/events.py).
"""

import asyncio
import logging

from sage_sidecar.core.events import EventBus
from sage_sidecar.schemas.protocol.chat import (
    MessageCompleted,
    MessageFailed,
    ServerChatFrame,
    ToolApprovalRequired,
)
from sage_sidecar.schemas.protocol.events import ApprovalRequiredEvent, ReplyFinished
from sage_sidecar.services.turn import Emit
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Conversation

log = logging.getLogger(__name__)

PREVIEW_CHARS = 280
# Announcements run beside the reply, never in its way: asyncio keeps only weak references.
_announcing: set[asyncio.Task[None]] = set()


def announcing(emit: Emit, bus: EventBus, db: Database, finished: bool = True) -> Emit:
    """`emit`, plus an event on `bus` for the frames that matter outside the chat. The frame goes
    to its client first, and the event is published even if that client has gone away: a reply
    that outlives its window is exactly the one worth announcing. The announcement (it reads the
    title) runs as a task of its own, so the reply ends as soon as without it. `finished=False`:
    only approvals are announced (a scheduled task's run announces its own end)."""

    async def emit_and_announce(frame: ServerChatFrame) -> None:
        try:
            await emit(frame)
        finally:
            if isinstance(frame, ToolApprovalRequired) or (
                finished and isinstance(frame, MessageCompleted | MessageFailed)
            ):
                task = asyncio.create_task(_announce(bus, db, frame))
                _announcing.add(task)
                task.add_done_callback(_announcing.discard)

    return emit_and_announce


async def _announce(
    bus: EventBus, db: Database, frame: MessageCompleted | MessageFailed | ToolApprovalRequired
) -> None:
    ids = {"conversation_id": frame.conversation_id, "message_id": frame.message_id}
    title = await _title(db, frame.conversation_id)
    if isinstance(frame, ToolApprovalRequired):
        bus.publish(ApprovalRequiredEvent(**ids, call_id=frame.call_id, tool=frame.name,
                                          arguments=frame.arguments, title=title,
                                          reason=frame.reason, reason_params=frame.reason_params))  # fmt: skip
        return
    error = frame.error if isinstance(frame, MessageFailed) else None
    bus.publish(ReplyFinished(**ids, status=frame.status, title=title,
                              preview=frame.content[:PREVIEW_CHARS], error=error))  # fmt: skip


async def _title(db: Database, conversation_id: str) -> str:
    """The conversation's title, or "" if it cannot be read: the event is still worth sending."""
    try:
        async with db.session() as session:
            conversation = await session.get(Conversation, conversation_id)
            return conversation.title if conversation is not None else ""
    except Exception:
        log.exception("could not read the title of conversation %s", conversation_id)
        return ""
