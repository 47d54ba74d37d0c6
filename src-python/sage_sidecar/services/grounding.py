"""Grounding a reply in knowledge: before an agent with knowledge bases answers, the passages
that best match the user's last message go in front of it as numbered sources (see
`knowledge/citations.py`), and the reply records and announces which passages the numbers are.
"""

import logging

from sage_sidecar.knowledge.citations import SOURCES, Retriever, citations, sources_prompt
from sage_sidecar.providers.base import ChatMessage
from sage_sidecar.schemas.protocol.chat import CitationsFrame, NoticeFrame
from sage_sidecar.schemas.protocol.parts import NoticePart
from sage_sidecar.services.turn import Turn

log = logging.getLogger(__name__)


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
        notice = NoticePart(text=f"Knowledge search failed, answering without sources: {error}",
                            code="knowledge_search_failed", params={"error": str(error)})  # fmt: skip
        turn.writer.add_part(notice)
        await turn.emit(NoticeFrame(**turn.ids, **dict(notice)))
        return
    if not hits:
        return
    turn.history.insert(last_user, ChatMessage("system", sources_prompt(hits)))
    cited = citations(hits)
    turn.writer.citations = cited
    await turn.emit(CitationsFrame(**turn.ids, citations=cited))
