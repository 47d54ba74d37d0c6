"""Hybrid retrieval: BM25 over FTS5 and vector similarity, fused by their scores
(fusion.score_fusion), with optional MMR to drop near-duplicate passages.

Each retriever returns a candidate list (deeper than `top_k`, so fusion has material); each
list's scores are normalised by their own distribution and added, the vector list weighing
VECTOR_WEIGHT and BM25 the rest: chosen by measurement on three evaluation sets (English prose,
English reference pages, Chinese), where it was at least as good as the better retriever alone
on every set while plain RRF lost to vector search on one (docs/knowledge.md, "Fusion").

A query mostly written in Chinese or Japanese is not given to an embedder that only reads
English (the shipped MiniLM): its neighbours for such text are noise (recall@5 0.13 on the
Chinese set), so there the lexical bigram index decides alone. Knowledge bases with different
embedders are searched with the query embedded once per embedder. Only chunks of `ready` files
are ever returned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.knowledge.embedders import Embedder
from sage_sidecar.knowledge.indexes import IndexCache
from sage_sidecar.knowledge.local_models import LOCAL_MODELS
from sage_sidecar.storage import cjk
from sage_sidecar.storage import knowledge as store
from sage_sidecar.storage.models import KnowledgeBase

if TYPE_CHECKING:
    import numpy

    from sage_sidecar.knowledge.vectors import VectorIndex

Mode = Literal["hybrid", "vector", "bm25"]
Fusion = Literal["score", "rrf"]
CANDIDATES = 50  # per retriever: how deep each list goes before fusion
VECTOR_WEIGHT = 0.65  # of the fused score, BM25 the rest (0.65-0.8 held on both English sets)
# all-MiniLM-L6-v2 learnt English only; the multilingual USE and provider models keep their vote.
ENGLISH_ONLY_EMBEDDERS = frozenset(m.id for m in LOCAL_MODELS.values() if m.english_only)
EmbedderFor = Callable[[str], Awaitable[Embedder]]


@dataclass
class Hit:
    chunk: store.ChunkRow
    score: float  # the fused score (hybrid), the cosine (vector) or the BM25 score (bm25)
    vector_rank: int | None = None  # 1-based rank in each retriever's list, None if absent
    vector_score: float | None = None
    bm25_rank: int | None = None
    bm25_score: float | None = None


@dataclass
class Query:
    text: str
    kb_ids: Sequence[str]
    file_ids: Sequence[str] | None = None
    top_k: int = 5
    mode: Mode = "hybrid"
    use_mmr: bool = False
    mmr_lambda: float = 0.7
    candidates: int = CANDIDATES
    fusion: Fusion = "score"
    vector_weight: float = VECTOR_WEIGHT
    rrf_k: int = 60


async def search(
    session: AsyncSession,
    indexes: IndexCache,
    embedder_for: EmbedderFor,
    query: Query,
    bases: Sequence[store.BaseRow] | None = None,
) -> list[Hit]:
    """`bases`: the query's bases as the caller already read them (else read here)."""
    from sage_sidecar.knowledge.fusion import reciprocal_rank_fusion, score_fusion

    if not query.text.strip() or not query.kb_ids:
        return []
    depth = max(query.candidates, query.top_k * (3 if query.use_mmr else 1))
    vector, lexical = await _candidates(session, indexes, embedder_for, query, depth, bases)
    if query.mode == "hybrid" and query.fusion == "rrf":
        fused = reciprocal_rank_fusion([[i for i, _ in vector], [i for i, _ in lexical]],
                                       k=query.rrf_k)  # fmt: skip
    elif query.mode == "hybrid":
        fused = score_fusion([(query.vector_weight, vector), (1 - query.vector_weight, lexical)])
    else:
        fused = vector or lexical
    # MMR picks from the best 3 × k; otherwise only the k returned need their text.
    wanted = query.top_k * 3 if query.use_mmr else query.top_k
    rows = await store.first_ready_chunks(session, [i for i, _ in fused], wanted)
    fused = [(i, s) for i, s in fused if i in rows]
    if query.use_mmr and len(fused) > query.top_k:
        fused = await _diversify(query, fused, rows, indexes, session)
    vector_pos = {i: (rank, s) for rank, (i, s) in enumerate(vector, start=1)}
    lexical_pos = {i: (rank, s) for rank, (i, s) in enumerate(lexical, start=1)}
    hits = []
    for chunk_id, score in fused[: query.top_k]:
        v, b = vector_pos.get(chunk_id), lexical_pos.get(chunk_id)
        hits.append(Hit(rows[chunk_id], score, v and v[0], v and v[1], b and b[0], b and b[1]))
    return hits


async def _candidates(
    session: AsyncSession,
    indexes: IndexCache,
    embedder_for: EmbedderFor,
    query: Query,
    depth: int,
    bases: Sequence[store.BaseRow] | None,
) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """The vector and the BM25 list. The query embedding (in the embedder) and the index
    search run while BM25 runs on the database's thread: the wall time is the longer of the
    two, not their sum."""
    vector_side: asyncio.Task[list[tuple[int, float]]] | None = None
    if query.mode in ("hybrid", "vector"):
        # An explicit vector search asks every embedder; hybrid only those that read the query.
        unread = query.mode == "hybrid" and cjk.is_cjk_query(query.text)
        skip = ENGLISH_ONLY_EMBEDDERS if unread else frozenset()
        plan = await _vector_plan(session, query, skip, bases)
        if plan is not None:
            vector_side = asyncio.create_task(
                _vector_candidates(indexes, embedder_for, query.text, plan, depth)
            )
    try:
        lexical: list[tuple[int, float]] = []
        if query.mode in ("hybrid", "bm25"):
            lexical = await store.bm25(session, query.text, query.kb_ids, query.file_ids, depth)
        return (await vector_side if vector_side is not None else []), lexical
    finally:
        if vector_side is not None:
            _discard(vector_side)


def _discard(task: asyncio.Task[Any]) -> None:
    """Cancel a task still running (BM25 failed, or the search was cancelled); a finished one's
    error was raised already or is dropped with the search, not logged as never retrieved."""
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()


@dataclass(frozen=True)
class _VectorPlan:
    bases: list[store.BaseRow]
    allowed: set[int] | None  # the file filter's chunk ids, None without a filter


async def _vector_plan(
    session: AsyncSession,
    query: Query,
    skip_embedders: frozenset[str],
    bases: Sequence[store.BaseRow] | None,
) -> _VectorPlan | None:
    """What the vector side needs from the database, read before it runs beside BM25 (one
    session cannot run two statements at once). None when there is nothing to search."""
    if bases is None:
        bases = await store.bases_by_id(session, query.kb_ids)
    bases = [kb for kb in bases if kb.embedder not in skip_embedders]
    if not bases:
        return None
    allowed: set[int] | None = None
    if query.file_ids is not None:
        allowed = set(await store.filter_ids(session, query.kb_ids, query.file_ids))
        if not allowed:
            return None
    return _VectorPlan(bases, allowed)


async def _vector_candidates(
    indexes: IndexCache, embedder_for: EmbedderFor, text: str, plan: _VectorPlan, depth: int
) -> list[tuple[int, float]]:
    query_vectors: dict[str, numpy.ndarray] = {}
    found: list[tuple[int, float]] = []
    for kb_id, embedder_id, dim in plan.bases:
        index = await _index(indexes, kb_id, dim)
        if index is None or len(index) == 0:
            continue
        if embedder_id not in query_vectors:
            embedder = await embedder_for(embedder_id)
            query_vectors[embedder_id] = (await embedder.embed([text]))[0]
        vector = query_vectors[embedder_id]
        found += await asyncio.to_thread(index.search, vector, depth, plan.allowed)
    found.sort(key=lambda pair: -pair[1])
    return found[:depth]


async def _diversify(
    query: Query,
    fused: list[tuple[int, float]],
    rows: dict[int, store.ChunkRow],
    indexes: IndexCache,
    session: AsyncSession,
) -> list[tuple[int, float]]:
    """MMR over the best fused candidates, with the vectors the indexes already hold."""
    import numpy

    from sage_sidecar.knowledge.fusion import mmr

    pool = fused[: query.top_k * 3]
    bases = {
        kb.id: kb
        for kb in await session.scalars(
            select(KnowledgeBase).where(KnowledgeBase.id.in_({rows[i].kb_id for i, _ in pool}))
        )
    }
    if len({kb.embedder for kb in bases.values()}) != 1:
        return fused  # vectors of different embedders cannot be compared
    vectors = []
    for chunk_id, _ in pool:
        kb = bases[rows[chunk_id].kb_id]
        index = await _index(indexes, kb.id, kb.embedding_dim)
        try:
            vectors.append(index.vectors([chunk_id])[0] if index is not None else None)
        except KeyError:  # deleted a moment ago
            vectors.append(None)
    present = [v for v in vectors if v is not None]
    if len(present) != len(vectors):
        return fused
    if query.mode == "hybrid":
        # By fused rank, as RRF scored it: the trade-off lambda means the same whichever fusion
        # ordered the list (score fusion spreads its scores far wider than RRF's).
        relevance = [(query.rrf_k + 1) / (query.rrf_k + rank) for rank in range(1, len(pool) + 1)]
    else:
        best = max(s for _, s in pool) or 1.0  # relevance on the cosine's 0..1 scale
        relevance = [s / best for _, s in pool]
    order = mmr([i for i, _ in pool], relevance, numpy.stack(present),
                top_k=query.top_k, lambda_=query.mmr_lambda)  # fmt: skip
    scores = dict(pool)
    return [(i, scores[i]) for i in order]


async def _index(indexes: IndexCache, kb_id: str, dim: int | None) -> VectorIndex | None:
    """The base's index; a thread opens it only the first time (it reads files)."""
    index = indexes.opened(kb_id, dim)
    if index is None:
        index = await asyncio.to_thread(indexes.existing, kb_id, dim)
    return index
