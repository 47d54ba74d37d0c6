"""Conversation titles: the first message, shortened, at once; then the model's own short title
after the first answer (a hidden call). If that call fails the shortened message stays."""

import logging
from dataclasses import replace

from sage_sidecar.providers.base import ChatMessage, ProviderError
from sage_sidecar.schemas.protocol.chat import ConversationTitled
from sage_sidecar.services.turn import Turn
from sage_sidecar.storage.models import Conversation

log = logging.getLogger(__name__)

TITLE_LENGTH = 60
TITLE_PROMPT = (
    "Write a short title (at most six words) for this conversation, in the language of the "
    "user's message. Reply with the title only, without quotes or a final period."
)


def shorten(text: str, limit: int = TITLE_LENGTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def clean_title(text: str) -> str:
    first_line = next((line for line in text.strip().splitlines() if line.strip()), "")
    title = first_line.strip().strip("\"'“”‘’«»*#").removeprefix("Title:").strip().rstrip(".")
    return shorten(title)


async def name_conversation(turn: Turn, answer: str) -> None:
    user = next((m for m in reversed(turn.history) if m.role == "user"), None)
    if user is None:
        return
    start = replace(user, content=(user.content or "")[:4000])  # a title needs only the start
    messages = [start, ChatMessage("assistant", answer[:4000]), ChatMessage("system", TITLE_PROMPT)]
    try:
        # Not fitted to the context window: it comes after the reply, whose cut it must not redraw.
        title = clean_title(await turn.ask(messages, purpose="title", fit=False))
    except ProviderError as error:
        log.info(
            "no model title for %s (%s); keeping the first message",
            turn.stream.conversation_id,
            error.kind,
        )
        return
    if not title:
        return
    async with turn.db.session() as session:
        conversation = await session.get(Conversation, turn.stream.conversation_id)
        if conversation is None:
            return
        conversation.title = title
        await session.commit()
    await turn.emit(ConversationTitled(**turn.ids, title=title))
