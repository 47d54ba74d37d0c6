"""Knowledge bases at run time: `Knowledge` is the part one process owns (the ingest worker, the
open vector indexes, the embedders), and searching. The bases themselves are
`knowledge_bases.py`, their files `knowledge_files.py`. Files live in
`<storage>/knowledge/<kb_id>/<file_id>.<ext>`, vectors in `<vectors>/<kb_id>/`.
"""

import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.config import Settings
from sage_sidecar.core.errors import NotFoundError
from sage_sidecar.core.events import EventBus
from sage_sidecar.knowledge.embedders import Embedder, resolve_embedder
from sage_sidecar.knowledge.indexes import IndexCache
from sage_sidecar.knowledge.ingest import IngestWorker
from sage_sidecar.knowledge.parse_worker import ParseLimits, ParserPool
from sage_sidecar.knowledge.search import Hit, Query, search
from sage_sidecar.schemas.knowledge import SearchRequest
from sage_sidecar.storage import cjk
from sage_sidecar.storage import knowledge as store
from sage_sidecar.storage.db import Database

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
        parse_limits: ParseLimits | None = None,
    ) -> None:
        self.db = db
        self.events = events
        self.http = http
        self.storage_dir = storage_dir
        self.max_file_bytes = max_file_bytes
        self.indexes = IndexCache(vectors_dir)
        # Knowledge files and chat attachments are parsed by the same worker processes.
        self.parser = ParserPool(parse_limits)
        self.worker = IngestWorker(
            db, events, self.indexes, storage_dir, self.embedder_for, self.parser
        )

    async def embedder_for(self, embedder_id: str) -> Embedder:
        return await resolve_embedder(embedder_id, db=self.db, http=self.http)

    def folder(self, kb_id: str) -> Path:
        return self.storage_dir / KNOWLEDGE_FOLDER / kb_id

    async def start(self) -> None:
        async with self.db.session() as session:  # before the worker writes any chunk
            await cjk.ensure_index(session)
        await self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()
        await self.parser.close()

    async def search(
        self, session: AsyncSession, query: Query, bases: Sequence[store.BaseRow] | None = None
    ) -> list[Hit]:
        return await search(session, self.indexes, self.embedder_for, query, bases)

    async def retrieve(self, kb_ids: Sequence[str], text: str, top_k: int) -> list[Hit]:
        """Hybrid search for a chat turn, over the bases that still exist."""
        async with self.db.session() as session:
            bases = await store.bases_by_id(session, kb_ids)
            query = Query(text, [kb.id for kb in bases], top_k=top_k)
            return await self.search(session, query, bases)


def parse_limits(settings: Settings) -> ParseLimits:
    return ParseLimits(timeout_s=settings.parse_timeout_s, memory_mb=settings.parse_memory_mb)


async def search_bases(
    session: AsyncSession, knowledge: Knowledge, request: SearchRequest
) -> tuple[list[Hit], float]:
    started = time.perf_counter()
    bases = await store.bases_by_id(session, request.kb_ids)
    found = {kb.id for kb in bases}
    if missing := [k for k in request.kb_ids if k not in found]:
        raise NotFoundError("knowledge base", missing[0])
    query = Query(request.query, request.kb_ids, request.file_ids, request.top_k, request.mode,
                  request.mmr)  # fmt: skip
    hits = await knowledge.search(session, query, bases)
    return hits, round((time.perf_counter() - started) * 1000, 2)


async def get_chunk(session: AsyncSession, chunk_id: int) -> store.ChunkRow:
    rows = await store.ready_chunks(session, [chunk_id])
    if chunk_id not in rows:
        raise NotFoundError("chunk", str(chunk_id))
    return rows[chunk_id]
