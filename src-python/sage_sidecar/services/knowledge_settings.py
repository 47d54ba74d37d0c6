"""Settings → Knowledge: the chunking defaults for new bases (kept in `app_meta`), and the facts
shown beside them — the offline embedder, how replies retrieve, each base's disk use."""

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.knowledge.citations import SOURCES
from sage_sidecar.knowledge.embedders import local_embedder
from sage_sidecar.knowledge.local_models import LOCAL_MODELS, LocalModel
from sage_sidecar.knowledge.search import Query
from sage_sidecar.schemas.knowledge import KnowledgeBaseCreate
from sage_sidecar.schemas.knowledge_settings import (
    BaseStorageOut,
    ChunkingDefaults,
    KnowledgeSettingsOut,
    LocalEmbedderOut,
    RetrievalOut,
)
from sage_sidecar.services import app_meta
from sage_sidecar.services.knowledge import Knowledge
from sage_sidecar.services.knowledge_bases import list_bases
from sage_sidecar.storage.models import AppMeta

TOKENS_KEY = "knowledge.chunk_tokens"
OVERLAP_KEY = "knowledge.chunk_overlap"
REPLY_MODE = Query("", ()).mode  # what Knowledge.retrieve searches with for a reply


async def chunking_defaults(session: AsyncSession) -> ChunkingDefaults:
    """The saved defaults; the shipped ones when unset or unreadable (a hand-edited row)."""
    tokens = await session.get(AppMeta, TOKENS_KEY)
    overlap = await session.get(AppMeta, OVERLAP_KEY)
    if tokens is None or overlap is None:
        return ChunkingDefaults()
    try:
        return ChunkingDefaults(chunk_tokens=int(tokens.value), chunk_overlap=int(overlap.value))
    except ValueError:  # also pydantic's ValidationError
        return ChunkingDefaults()


async def set_chunking_defaults(session: AsyncSession, data: ChunkingDefaults) -> ChunkingDefaults:
    await app_meta.set_value(session, TOKENS_KEY, str(data.chunk_tokens))
    await app_meta.set_value(session, OVERLAP_KEY, str(data.chunk_overlap))
    await session.commit()
    return data


async def with_defaults(session: AsyncSession, data: KnowledgeBaseCreate) -> KnowledgeBaseCreate:
    """A creation that left the chunking out gets the saved defaults (an overlap the chosen size
    cannot hold is cut to half of it, as the chunker would)."""
    given = data.model_fields_set
    if {"chunk_tokens", "chunk_overlap"} <= given:
        return data
    defaults = await chunking_defaults(session)
    tokens = data.chunk_tokens if "chunk_tokens" in given else defaults.chunk_tokens
    overlap = data.chunk_overlap if "chunk_overlap" in given else defaults.chunk_overlap
    return data.model_copy(
        update={"chunk_tokens": tokens, "chunk_overlap": min(overlap, tokens // 2)}
    )


def _bytes_under(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _local_embedder(model: LocalModel) -> LocalEmbedderOut:
    return LocalEmbedderOut(
        id=model.id,
        dim=model.dim,
        present=model.present(),
        loaded=local_embedder(model.id).loaded,
        threads=model.threads(),
        multilingual=not model.english_only,
    )


async def knowledge_settings(session: AsyncSession, knowledge: Knowledge) -> KnowledgeSettingsOut:
    local = [_local_embedder(model) for model in LOCAL_MODELS.values()]
    bases = await list_bases(session)
    folders = [(knowledge.folder(kb.id), knowledge.indexes.directory(kb.id)) for kb in bases]
    sizes = await asyncio.to_thread(
        lambda: [(_bytes_under(f), _bytes_under(i)) for f, i in folders]
    )
    return KnowledgeSettingsOut(
        defaults=await chunking_defaults(session),
        local_embedder=local[0],
        local_embedders=local,
        retrieval=RetrievalOut(mode=REPLY_MODE, sources_per_reply=SOURCES),
        bases=[
            BaseStorageOut(
                id=kb.id,
                name=kb.name,
                embedder=kb.embedder,
                file_count=kb.file_count,
                chunk_count=kb.chunk_count,
                files_bytes=files,
                index_bytes=index,
            )
            for kb, (files, index) in zip(bases, sizes, strict=True)
        ],
    )
