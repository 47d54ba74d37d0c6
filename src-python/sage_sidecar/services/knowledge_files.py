"""The files of a knowledge base: added (uploaded or by path), listed, deleted. Adding stages the
bytes (`knowledge/intake.py`), drops duplicates and queues the rest for the ingest worker."""

import asyncio
from collections.abc import AsyncIterator
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import NotFoundError
from sage_sidecar.knowledge import intake
from sage_sidecar.knowledge.ingest import publish_base, unindex_files
from sage_sidecar.schemas.knowledge import KnowledgeFileOut
from sage_sidecar.schemas.protocol.events import KnowledgeFileEvent
from sage_sidecar.services.knowledge import KNOWLEDGE_FOLDER, Knowledge
from sage_sidecar.services.knowledge_bases import get_base
from sage_sidecar.storage import ingest_queue as queue
from sage_sidecar.storage import knowledge as store
from sage_sidecar.storage.models import KnowledgeFile, new_id


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
    base already has is dropped, and the existing file is returned marked `duplicate`. One
    hand-off to the database's thread a file (storage/ingest_queue.py): a folder of small files
    is added without an ORM session's work per file on the event loop."""
    results: list[KnowledgeFileOut] = []
    try:
        for item in staged:
            file_id = new_id()
            stored = f"{KNOWLEDGE_FOLDER}/{kb_id}/{file_id}.{item.kind}"
            new = queue.NewFile(
                file_id, kb_id, item.name, stored, item.kind, item.size, item.sha256
            )
            place = partial(intake.place, item, knowledge.storage_dir / stored)
            queued = await queue.queue_file(session, new, place)
            results.append(KnowledgeFileOut(**queued.file, duplicate=queued.duplicate))
            if queued.duplicate:
                item.discard()
                continue
            knowledge.events.publish(KnowledgeFileEvent(kb_id=kb_id, file_id=file_id,
                                     name=item.name, status="queued", progress=0.0, error=None,
                                     chunk_count=0))  # fmt: skip
            if queued.base is not None:
                publish_base(knowledge.events, queued.base)
    finally:
        intake.discard_all(staged)  # whatever was not placed (placed files are gone from staging)
    knowledge.worker.wake()
    return results


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
    counted = await store.refresh_counts(session, kb_id)
    await session.commit()
    path.unlink(missing_ok=True)
    knowledge.events.publish(KnowledgeFileEvent(kb_id=kb_id, file_id=file_id, name=file.name,
                             status="deleted", progress=0.0, error=None, chunk_count=0))  # fmt: skip
    if counted is not None:
        publish_base(knowledge.events, counted)
