"""Cited answers: before an agent with knowledge bases answers, the passages that best match the
user's message are given to the model as numbered sources, and it is asked to cite them as [1],
[2]. The reply stores which passages those numbers are (`messages.citations`) and the stream sends
them in a `citations` frame before the first token, so a UI can link every marker.
"""

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from sage_sidecar.knowledge.search import Hit
from sage_sidecar.providers.base import ChatMessage
from sage_sidecar.services.turn import Turn

log = logging.getLogger(__name__)

SOURCES = 5  # passages per reply: enough to answer, few enough for a small model's context
SNIPPET_CHARS = 300
INSTRUCTION = (
    "Numbered sources from the user's knowledge bases follow. Use them to answer the user's last "
    "message. Cite every statement that relies on a source with its number in square brackets, "
    "like [1] or [2][3], right after that statement. Cite only the numbers listed here. If the "
    "sources do not contain the answer, say so."
)


class Retriever(Protocol):
    async def retrieve(self, kb_ids: Sequence[str], text: str, top_k: int) -> list[Hit]: ...


def source_label(hit: Hit) -> str:
    chunk = hit.chunk
    where = [chunk.file_name]
    if chunk.page is not None:
        where.append(f"page {chunk.page}")
    if chunk.heading:
        where.append(chunk.heading)
    return ", ".join(where)


def sources_prompt(hits: Sequence[Hit]) -> str:
    blocks = [f"[{n}] {source_label(h)}\n{h.chunk.text}" for n, h in enumerate(hits, start=1)]
    return INSTRUCTION + "\n\n" + "\n\n".join(blocks)


def citations(hits: Sequence[Hit]) -> list[dict[str, Any]]:
    """What the message keeps: number → passage and its source (camelCase, like stream frames)."""
    result = []
    for number, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        snippet = (
            chunk.text if len(chunk.text) <= SNIPPET_CHARS else chunk.text[:SNIPPET_CHARS] + "…"
        )
        result.append({"number": number, "chunkId": chunk.id, "kbId": chunk.kb_id,
                       "fileId": chunk.file_id, "fileName": chunk.file_name,
                       "heading": chunk.heading, "page": chunk.page,
                       "charStart": chunk.char_start, "charEnd": chunk.char_end,
                       "snippet": snippet, "score": round(hit.score, 6)})  # fmt: skip
    return result


async def ground(turn: Turn, retriever: Retriever | None) -> None:
    """Retrieve for the user's last message and put the sources in front of it. A failed search
    costs the reply its sources (with a notice), never the reply."""
    kb_ids = list(turn.agent.knowledge_base_ids or [])
    last_user = next((i for i in range(len(turn.history) - 1, -1, -1)
                      if turn.history[i].role == "user"), None)  # fmt: skip
    if retriever is None or not kb_ids or last_user is None:
        return
    try:
        hits = await retriever.retrieve(kb_ids, turn.history[last_user].content or "", SOURCES)
    except Exception as error:  # noqa: BLE001 - the embedder or index failed; answer anyway
        log.warning("knowledge search for a reply failed: %s", error)
        text = f"Knowledge search failed, answering without sources: {error}"
        turn.writer.add_part({"type": "notice", "text": text})
        await turn.emit({"type": "notice", "text": text})
        return
    if not hits:
        return
    turn.history.insert(last_user, ChatMessage("system", sources_prompt(hits)))
    cited = citations(hits)
    turn.writer.citations = cited
    await turn.emit({"type": "citations", "citations": cited})
