"""Knowledge bases: create, change (re-indexing when the embedder or chunking changes), delete."""

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import InvalidError
from sage_sidecar.knowledge import intake
from sage_sidecar.knowledge.embedders import resolve_embedder
from sage_sidecar.knowledge.ingest import publish_base
from sage_sidecar.schemas.knowledge import KnowledgeBaseCreate, KnowledgeBaseUpdate
from sage_sidecar.schemas.protocol.events import KnowledgeBaseEvent
from sage_sidecar.services.knowledge import Knowledge
from sage_sidecar.storage import knowledge as store
from sage_sidecar.storage.models import Agent, KnowledgeBase, KnowledgeFile
from sage_sidecar.storage.rows import get_or_raise


async def list_bases(session: AsyncSession) -> list[KnowledgeBase]:
    return list(await session.scalars(select(KnowledgeBase).order_by(KnowledgeBase.created_at)))


async def get_base(session: AsyncSession, kb_id: str) -> KnowledgeBase:
    return await get_or_raise(session, KnowledgeBase, kb_id, "knowledge base")


async def create_base(
    session: AsyncSession, knowledge: Knowledge, data: KnowledgeBaseCreate
) -> KnowledgeBase:
    await resolve_embedder(data.embedder, db=session, http=knowledge.http)  # 4xx if unknown
    kb = KnowledgeBase(**data.model_dump())
    session.add(kb)
    await session.commit()
    return kb


async def update_base(
    session: AsyncSession, knowledge: Knowledge, kb_id: str, data: KnowledgeBaseUpdate
) -> KnowledgeBase:
    kb = await get_base(session, kb_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if "embedder" in changes:
        await resolve_embedder(changes["embedder"], db=session, http=knowledge.http)
    tokens = changes.get("chunk_tokens", kb.chunk_tokens)
    if changes.get("chunk_overlap", kb.chunk_overlap) > tokens // 2:
        raise InvalidError(
            "chunk_overlap must be at most half of chunk_tokens",
            code="knowledge_base.overlap_too_large",
            chunk_overlap=changes.get("chunk_overlap", kb.chunk_overlap),
            chunk_tokens=tokens,
        )
    reindex = any(
        name in changes and changes[name] != getattr(kb, name)
        for name in ("embedder", "chunk_tokens", "chunk_overlap")
    )
    for name, value in changes.items():
        setattr(kb, name, value)
    await session.commit()
    if reindex:
        await reindex_base(session, knowledge, kb_id)
    return kb


async def delete_base(session: AsyncSession, knowledge: Knowledge, kb_id: str) -> None:
    kb = await get_base(session, kb_id)
    await knowledge.worker.cancel(kb_id=kb_id)
    agents = await session.scalars(select(Agent))
    for agent in agents:  # agents stop citing a base that is gone
        if kb_id in agent.knowledge_base_ids:
            agent.knowledge_base_ids = [k for k in agent.knowledge_base_ids if k != kb_id]
    await session.delete(kb)  # files and chunks go by cascade, FTS rows by trigger
    await session.commit()
    await asyncio.to_thread(knowledge.indexes.drop, kb_id)
    await asyncio.to_thread(intake.remove_tree, knowledge.folder(kb_id))
    knowledge.events.publish(KnowledgeBaseEvent(kb_id=kb_id, status="deleted", file_count=0,
                                                chunk_count=0))  # fmt: skip


async def reindex_base(session: AsyncSession, knowledge: Knowledge, kb_id: str) -> KnowledgeBase:
    """Embed every file again (after a new embedder or chunking, or on request): vectors are
    dropped, each file is queued and goes through the worker with its progress events."""
    kb = await get_base(session, kb_id)
    await knowledge.worker.cancel(kb_id=kb_id)
    await asyncio.to_thread(knowledge.indexes.drop, kb_id)
    await store.delete_chunks(
        session,
        list(await session.scalars(select(KnowledgeFile.id).where(KnowledgeFile.kb_id == kb_id))),
    )
    files = await session.scalars(select(KnowledgeFile).where(KnowledgeFile.kb_id == kb_id))
    for file in files:
        file.status, file.error, file.progress, file.chunk_count, file.attempts = (
            "queued", None, 0.0, 0, 0
        )  # fmt: skip
    kb.embedding_dim = None
    await store.refresh_counts(session, kb_id)
    await session.commit()
    publish_base(knowledge.events, kb)
    knowledge.worker.wake()
    return kb
