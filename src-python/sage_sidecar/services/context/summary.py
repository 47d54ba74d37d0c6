"""The `summarise` policy's summaries: one hidden model call (a trace step with purpose
`summary`) that condenses the turns left out, kept in the reply's context part so later replies
reuse it instead of asking again. A later reply that leaves out more extends the newest summary
that covers a start of what it leaves out: the old summary and the newly left-out turns go in,
never the whole history again."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from sage_sidecar.providers.base import ChatMessage
from sage_sidecar.services.context.tokens import cut_to_tokens
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Message

SUMMARY_TOKENS = 600  # the summary's own length: reserved in the request, asked of the model
PROMPT = (
    "Summarise the earlier part of a conversation between a user and an assistant, for the "
    "assistant's own later reference: facts, decisions, names, numbers, what the user wants, "
    "and open questions. At most 200 words, in the conversation's language, no preamble."
)
SUMMARY_LEAD = "Summary of the earlier conversation (left out to fit the context window):\n"
RECENT_REPLIES = 50  # how far back a reply looks for a summary to reuse

Ask = Callable[[list[ChatMessage]], Awaitable[str]]


def digests(messages: list[ChatMessage]) -> list[str]:
    """One digest per start of `messages`: digests[i] covers messages[0..i]."""
    out: list[str] = []
    state = b""
    for message in messages:
        state = hashlib.sha256(
            state + json.dumps([message.role, message.content]).encode()
        ).digest()
        out.append(state.hex()[:32])
    return out


async def cached(db: Database, conversation_id: str) -> dict[str, str]:
    """Summaries earlier replies of the conversation made, by the digest of what they cover."""
    async with db.session() as session:
        rows = await session.scalars(
            select(Message.parts)
            .where(Message.conversation_id == conversation_id, Message.role == "assistant")
            .order_by(Message.seq.desc())
            .limit(RECENT_REPLIES)
        )
        found: dict[str, str] = {}
        for parts in rows:
            for part in parts or []:
                if _is_summary(part):
                    found.setdefault(part["covers"], part["summary"])
        return found


def _is_summary(part: Any) -> bool:
    return (isinstance(part, dict) and part.get("type") == "context"
            and isinstance(part.get("covers"), str) and isinstance(part.get("summary"), str))  # fmt: skip


def transcript(messages: list[ChatMessage]) -> str:
    lines = []
    for message in messages:
        if message.role == "system":
            continue
        who = {"user": "User", "assistant": "Assistant", "tool": "Tool result"}[message.role]
        text = message.content or ""
        for call in message.tool_calls:
            text += f"\n[called {call.name} {call.arguments}]"
        lines.append(f"{who}: {text.strip()}")
    return "\n\n".join(lines)


async def summarise(
    dropped: list[ChatMessage], known: dict[str, str], ask: Ask, input_tokens: int
) -> tuple[str, str]:
    """(summary, digest of what it covers): reused when known, else asked for, extending the
    newest known summary of a start of `dropped`. Raises what `ask` raises."""
    marks = digests(dropped)
    if marks[-1] in known:
        return known[marks[-1]], marks[-1]
    start, earlier = 0, ""
    for i in range(len(marks) - 2, -1, -1):
        if marks[i] in known:
            start, earlier = i + 1, known[marks[i]]
            break
    text = transcript(dropped[start:])
    if earlier:
        text = f"Summary so far:\n{earlier}\n\nThen:\n{text}"
    text = cut_to_tokens(text, input_tokens)
    summary = (await ask([ChatMessage("system", PROMPT), ChatMessage("user", text)])).strip()
    return cut_to_tokens(summary, SUMMARY_TOKENS), marks[-1]
