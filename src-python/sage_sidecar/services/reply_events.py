"""Replies as app-wide events: what happened to a reply is also published on the event bus
(`/ws/events`), not only to the `/ws/chat` connection that asked for it. A window that shows
something else, or an app that is hidden in the tray, learns that a reply is done or that a tool
waits for approval; the desktop UI turns these into native notifications (docs/desktop.md).

`chat.reply_finished`    conversation_id, message_id, status (completed | failed | interrupted),
                         title, preview (the reply's first characters), error
`chat.approval_required` conversation_id, message_id, call_id, tool, arguments, title
"""

import asyncio
import logging
from typing import Any

from sage_sidecar.core.events import EventBus
from sage_sidecar.services.turn import Emit
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Conversation

log = logging.getLogger(__name__)

REPLY_FINISHED = "chat.reply_finished"
APPROVAL_REQUIRED = "chat.approval_required"
PREVIEW_CHARS = 280
_TERMINAL = ("message.completed", "message.failed")
# Announcements run beside the reply, never in its way: asyncio keeps only weak references.
_announcing: set[asyncio.Task[None]] = set()


def announcing(emit: Emit, bus: EventBus, db: Database) -> Emit:
    """`emit`, plus an event on `bus` for the frames that matter outside the chat. The frame goes
    to its client first, and the event is published even if that client has gone away: a reply
    that outlives its window is exactly the one worth announcing. The announcement (it reads the
    title) runs as a task of its own, so the reply ends as soon as without it."""

    async def emit_and_announce(frame: dict[str, Any]) -> None:
        try:
            await emit(frame)
        finally:
            if frame.get("type") in (*_TERMINAL, "tool.approval_required"):
                task = asyncio.create_task(_announce(bus, db, frame))
                _announcing.add(task)
                task.add_done_callback(_announcing.discard)

    return emit_and_announce


async def _announce(bus: EventBus, db: Database, frame: dict[str, Any]) -> None:
    ids = {"conversation_id": frame.get("conversationId"), "message_id": frame.get("messageId")}
    title = await _title(db, ids["conversation_id"])
    if frame["type"] == "tool.approval_required":
        bus.publish(APPROVAL_REQUIRED, **ids, call_id=frame.get("callId"), tool=frame.get("name"),
                    arguments=frame.get("arguments"), title=title)  # fmt: skip
        return
    content = str(frame.get("content") or "")
    bus.publish(REPLY_FINISHED, **ids, status=frame.get("status"), title=title,
                preview=content[:PREVIEW_CHARS], error=frame.get("error"))  # fmt: skip


async def _title(db: Database, conversation_id: Any) -> str:
    """The conversation's title, or "" if it cannot be read: the event is still worth sending."""
    if not isinstance(conversation_id, str):
        return ""
    try:
        async with db.session() as session:
            conversation = await session.get(Conversation, conversation_id)
            return conversation.title if conversation is not None else ""
    except Exception:
        log.exception("could not read the title of conversation %s", conversation_id)
        return ""
