"""Cited answers: before an agent with knowledge bases answers, the passages that best match the
user's message are given to the model as numbered sources, and it is asked to cite them as [1],
[2]. The reply stores which passages those numbers are (`messages.citations`) and the stream sends
them in a `citations` frame before the first token, so a UI can link every marker.

This module builds the prompt and the citations; `services/grounding.py` puts them into a reply.
"""

from collections.abc import Sequence
from typing import Protocol

from sage_sidecar.knowledge.search import Hit
from sage_sidecar.schemas.protocol.parts import Citation

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


def citations(hits: Sequence[Hit]) -> list[Citation]:
    """What the message keeps (and the `citations` frame carries): number → passage and its
    source."""
    result = []
    for number, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        snippet = (
            chunk.text if len(chunk.text) <= SNIPPET_CHARS else chunk.text[:SNIPPET_CHARS] + "…"
        )
        result.append(Citation(number=number, chunk_id=chunk.id, kb_id=chunk.kb_id,
                               file_id=chunk.file_id, file_name=chunk.file_name,
                               heading=chunk.heading, page=chunk.page,
                               char_start=chunk.char_start, char_end=chunk.char_end,
                               snippet=snippet, score=round(hit.score, 6)))  # fmt: skip
    return result
