"""Knowledge bases: CRUD, adding and deleting files, re-indexing, and search.

`Knowledge` is the part one process owns (the ingest worker, the open vector indexes, the
embedders); the functions below are what the routes call. Files live in
`<storage>/knowledge/<kb_id>/<file_id>.<ext>`, vectors in `<vectors>/<kb_id>/`.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import InvalidError, NotFoundError
from sage_sidecar.core.events import EventBus
from sage_sidecar.knowledge import intake, store
from sage_sidecar.knowledge.embedders import Embedder, resolve_embedder
from sage_sidecar.knowledge.indexes import IndexCache
from sage_sidecar.knowledge.ingest import IngestWorker, publish_base, unindex_files
from sage_sidecar.knowledge.search import Hit, Query, search
from sage_sidecar.schemas.knowledge import (
    KnowledgeBaseCreate,
    KnowledgeBaseUpdate,
    KnowledgeFileOut,
    SearchRequest,
)
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Agent, KnowledgeBase, KnowledgeFile, new_id
from sage_sidecar.storage.rows import get_or_raise

KNOWLEDGE_FOLDER = "knowledge"


class Knowledge:
    """The knowledge-base machinery of one sidecar process."""

    def __init__(
        self,
        db: Database,
        events: EventBus,
        http: httpx.AsyncClient,
        storage_dir: Path,
        vectors_dir: Path,
        max_file_bytes: int,
    ) -> None:
        self.db = db
        self.events = events
        self.http = http
        self.storage_dir = storage_dir
        self.max_file_bytes = max_file_bytes
        self.indexes = IndexCache(vectors_dir)
        self.worker = IngestWorker(db, events, self.indexes, storage_dir, self.embedder_for)

    async def embedder_for(self, embedder_id: str) -> Embedder:
        return await resolve_embedder(embedder_id, db=self.db, http=self.http)

    def folder(self, kb_id: str) -> Path:
        return self.storage_dir / KNOWLEDGE_FOLDER / kb_id

    async def start(self) -> None:
        await self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()

    async def search(self, session: AsyncSession, query: Query) -> list[Hit]:
        return await search(session, self.indexes, self.embedder_for, query)

    async def retrieve(self, kb_ids: Sequence[str], text: str, top_k: int) -> list[Hit]:
        """Hybrid search for a chat turn, over the bases that still exist."""
        async with self.db.session() as session:
            existing = list(
                await session.scalars(select(KnowledgeBase.id).where(KnowledgeBase.id.in_(kb_ids)))
            )
            return await self.search(session, Query(text, existing, top_k=top_k))


# --- knowledge bases ------------------------------------------------------------------------


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
        raise InvalidError("chunk_overlap must be at most half of chunk_tokens")
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
    knowledge.events.publish("knowledge.base", kb_id=kb_id, status="deleted", file_count=0,
                             chunk_count=0)  # fmt: skip


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


# --- files ----------------------------------------------------------------------------------


async def list_files(session: AsyncSession, kb_id: str) -> list[KnowledgeFile]:
    await get_base(session, kb_id)
    query = select(KnowledgeFile).where(KnowledgeFile.kb_id == kb_id)
    return list(await session.scalars(query.order_by(KnowledgeFile.created_at)))


async def get_file(session: AsyncSession, kb_id: str, file_id: str) -> KnowledgeFile:
    file = await session.get(KnowledgeFile, file_id)
    if file is None or file.kb_id != kb_id:
        raise NotFoundError("file", file_id)
    return file


async def upload_files(
    session: AsyncSession,
    knowledge: Knowledge,
    kb_id: str,
    content_type: str,
    body: AsyncIterator[bytes],
) -> list[KnowledgeFileOut]:
    await get_base(session, kb_id)
    await session.commit()  # end the read transaction: streaming the upload may take a while
    staged = await intake.stage_multipart(
        content_type, body, knowledge.folder(kb_id) / ".incoming", knowledge.max_file_bytes
    )
    return await _add_staged(session, knowledge, kb_id, staged)


async def add_paths(
    session: AsyncSession, knowledge: Knowledge, kb_id: str, paths: list[str]
) -> list[KnowledgeFileOut]:
    await get_base(session, kb_id)
    staged = await asyncio.to_thread(
        intake.stage_paths, paths, knowledge.folder(kb_id) / ".incoming", knowledge.max_file_bytes
    )
    return await _add_staged(session, knowledge, kb_id, staged)


async def _add_staged(
    session: AsyncSession, knowledge: Knowledge, kb_id: str, staged: list[intake.StagedFile]
) -> list[KnowledgeFileOut]:
    """Register staged files: a new one is moved into place and queued; one whose content the
    base already has is dropped, and the existing file is returned marked `duplicate`."""
    results: list[KnowledgeFileOut] = []
    try:
        for item in staged:
            existing = await _by_hash(session, kb_id, item.sha256)
            if existing is not None:
                item.discard()
                results.append(_out(existing, duplicate=True))
                continue
            file_id = new_id()
            stored = f"{KNOWLEDGE_FOLDER}/{kb_id}/{file_id}.{item.kind}"
            file = KnowledgeFile(id=file_id, kb_id=kb_id, name=item.name, stored_path=stored,
                                 kind=item.kind, size=item.size, sha256=item.sha256,
                                 status="queued")  # fmt: skip
            session.add(file)
            try:
                await session.flush()
            except IntegrityError:  # the same content added by a concurrent request
                await session.rollback()
                item.discard()
                results.append(_out(await _by_hash(session, kb_id, item.sha256), duplicate=True))
                continue
            intake.place(item, knowledge.storage_dir / stored)
            results.append(_out(file))
            kb = await store.refresh_counts(session, kb_id)
            await session.commit()
            knowledge.events.publish("knowledge.file", kb_id=kb_id, file_id=file.id,
                                     name=file.name, status="queued", progress=0.0, error=None,
                                     chunk_count=0)  # fmt: skip
            if kb is not None:
                publish_base(knowledge.events, kb)
    finally:
        intake.discard_all(staged)  # whatever was not placed (placed files are gone from staging)
    knowledge.worker.wake()
    return results


async def _by_hash(session: AsyncSession, kb_id: str, sha256: str) -> KnowledgeFile | None:
    query = select(KnowledgeFile).where(
        KnowledgeFile.kb_id == kb_id, KnowledgeFile.sha256 == sha256
    )
    return await session.scalar(query)


def _out(file: KnowledgeFile | None, duplicate: bool = False) -> KnowledgeFileOut:
    assert file is not None
    return KnowledgeFileOut.model_validate(file).model_copy(update={"duplicate": duplicate})


async def delete_file(
    session: AsyncSession, knowledge: Knowledge, kb_id: str, file_id: str
) -> None:
    """The file, its chunks (and FTS rows), its vectors and its stored copy all go."""
    file = await get_file(session, kb_id, file_id)
    kb = await get_base(session, kb_id)
    await knowledge.worker.cancel(file_ids=[file_id])
    await unindex_files(knowledge.db, knowledge.indexes, kb_id, kb.embedding_dim, [file_id])
    path = knowledge.storage_dir / file.stored_path
    await session.delete(file)
    await session.flush()
    kb = await store.refresh_counts(session, kb_id)
    await session.commit()
    path.unlink(missing_ok=True)
    knowledge.events.publish("knowledge.file", kb_id=kb_id, file_id=file_id, name=file.name,
                             status="deleted", progress=0.0, error=None, chunk_count=0)  # fmt: skip
    if kb is not None:
        publish_base(knowledge.events, kb)


# --- search ---------------------------------------------------------------------------------


async def search_bases(
    session: AsyncSession, knowledge: Knowledge, request: SearchRequest
) -> tuple[list[Hit], float]:
    found = set(
        await session.scalars(select(KnowledgeBase.id).where(KnowledgeBase.id.in_(request.kb_ids)))
    )
    if missing := [k for k in request.kb_ids if k not in found]:
        raise NotFoundError("knowledge base", missing[0])
    started = time.perf_counter()
    query = Query(request.query, request.kb_ids, request.file_ids, request.top_k, request.mode,
                  request.mmr)  # fmt: skip
    hits = await knowledge.search(session, query)
    return hits, round((time.perf_counter() - started) * 1000, 2)


async def get_chunk(session: AsyncSession, chunk_id: int) -> store.ChunkRow:
    rows = await store.ready_chunks(session, [chunk_id])
    if chunk_id not in rows:
        raise NotFoundError("chunk", str(chunk_id))
    return rows[chunk_id]
