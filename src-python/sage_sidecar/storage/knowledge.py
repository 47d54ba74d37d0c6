"""SQL over the knowledge tables: chunks in and out, BM25 over their FTS5 indexes, and the counts a
knowledge base shows. SQLite FTS5 specifics live here, in storage/cjk.py and in migration 0005 only (the knowledge
pipeline in knowledge/ calls these functions and writes no SQL of its own)."""

import re
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.storage import cjk
from sage_sidecar.storage.db import run_on_connection
from sage_sidecar.storage.models import KnowledgeBase, KnowledgeChunk, KnowledgeFile

ACTIVE = ("queued", "parsing", "embedding")  # a file in one of these is not searchable yet


class NewChunk(Protocol):
    """What a chunk row is made of (knowledge/chunking.py's Chunk)."""

    @property
    def ordinal(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def heading(self) -> str | None: ...
    @property
    def page(self) -> int | None: ...
    @property
    def char_start(self) -> int: ...
    @property
    def char_end(self) -> int: ...
    @property
    def token_count(self) -> int: ...


async def chunk_ids(
    session: AsyncSession, file_ids: Collection[str], limit: int | None = None
) -> list[int]:
    if not file_ids:
        return []
    query = select(KnowledgeChunk.id).where(KnowledgeChunk.file_id.in_(list(file_ids)))
    return list((await session.scalars(query.limit(limit))).all())


async def delete_chunks(session: AsyncSession, file_ids: Collection[str]) -> None:
    if file_ids:
        await session.execute(
            delete(KnowledgeChunk).where(KnowledgeChunk.file_id.in_(list(file_ids)))
        )


async def refresh_counts(session: AsyncSession, kb_id: str) -> KnowledgeBase | None:
    """Recount a base's files and searchable chunks and set its status; the caller commits."""
    kb = await session.get(KnowledgeBase, kb_id)
    if kb is None:
        return None
    row = (
        await session.execute(
            select(
                func.count(KnowledgeFile.id),
                func.coalesce(
                    func.sum(KnowledgeFile.chunk_count).filter(KnowledgeFile.status == "ready"), 0
                ),
                func.count(KnowledgeFile.id).filter(KnowledgeFile.status.in_(ACTIVE)),
            ).where(KnowledgeFile.kb_id == kb_id)
        )
    ).one()
    kb.file_count, kb.chunk_count = int(row[0]), int(row[1])
    kb.status = "indexing" if row[2] else "ready"
    return kb


@dataclass(frozen=True)
class ChunkRow:
    """A searchable chunk with what a citation needs about its file."""

    id: int
    kb_id: str
    file_id: str
    file_name: str
    ordinal: int
    text: str
    heading: str | None
    page: int | None
    char_start: int
    char_end: int


# CROSS JOIN keeps the chunks the outer loop (SQLite does not reorder it): given 12 ids or more,
# the planner chose to walk every ready file by its status index and probe its chunks, 22 ms of
# CPU for 100 ids at 10k chunks instead of 0.25 ms by id (bench/retrieval).
CHUNK_SQL = (
    "SELECT c.id, c.kb_id, c.file_id, f.name, c.ordinal, c.text, c.heading, c.page, "
    "c.char_start, c.char_end FROM knowledge_chunks c "
    "CROSS JOIN knowledge_files f ON f.id = c.file_id "
    "WHERE c.id IN :ids AND f.status = 'ready'"
)


def _ready_chunks(connection: sqlite3.Connection, ids: Sequence[int]) -> dict[int, ChunkRow]:
    if not ids:
        return {}
    rows = connection.execute(*expand(CHUNK_SQL, {"ids": list(ids)}))
    return {row[0]: ChunkRow(*row) for row in rows}


async def ready_chunks(session: AsyncSession, ids: Collection[int]) -> dict[int, ChunkRow]:
    """The chunks among `ids` whose file is ready: a vector of a file still being indexed, or of
    one deleted a moment ago, never reaches a result."""
    return await run_on_connection(session, partial(_ready_chunks, ids=list(ids)))


async def first_ready_chunks(
    session: AsyncSession, ids: Sequence[int], count: int
) -> dict[int, ChunkRow]:
    """The first `count` chunks of `ids`, in that order, whose file is ready (and any others read
    with them). A search returns a few passages out of ~100 fused candidates: loading every
    candidate's text cost more than the rest of the query's SQL. The first `count` ids are read
    first; only when some are not ready (a file being indexed) are the rest read too."""

    def read(connection: sqlite3.Connection) -> dict[int, ChunkRow]:
        found = _ready_chunks(connection, ids[:count])
        if len(found) < count and len(ids) > count:
            found.update(_ready_chunks(connection, ids[count:]))
        return found

    return await run_on_connection(session, read)


def expand(sql: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """SQLAlchemy's expanding `IN :name` for the DB-API: a list parameter becomes one named
    parameter per item (an empty list one that matches nothing)."""
    flat: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, list):
            values = value or [None]  # `IN (NULL)` matches no row
            names = [f"{name}_{i}" for i in range(len(values))]
            sql = re.sub(f":{name}\\b", "(" + ", ".join(f":{n}" for n in names) + ")", sql)
            flat.update(zip(names, values, strict=True))
        else:
            flat[name] = value
    return sql, flat


class BaseRow(NamedTuple):
    """What a search needs of a knowledge base."""

    id: str
    embedder: str
    embedding_dim: int | None


async def bases_by_id(session: AsyncSession, kb_ids: Collection[str]) -> list[BaseRow]:
    """The bases among `kb_ids` that exist, in one hand-off to the connection's thread."""
    sql = "SELECT id, embedder, embedding_dim FROM knowledge_bases WHERE id IN :ids"

    def read(connection: sqlite3.Connection) -> list[BaseRow]:
        return [BaseRow(*row) for row in connection.execute(*expand(sql, {"ids": list(kb_ids)}))]

    return await run_on_connection(session, read)


async def filter_ids(
    session: AsyncSession, kb_ids: Collection[str], file_ids: Collection[str] | None
) -> list[int]:
    """Ids of the searchable chunks of these files (the vector search's metadata filter)."""
    query = (
        select(KnowledgeChunk.id)
        .join(KnowledgeFile, KnowledgeFile.id == KnowledgeChunk.file_id)
        .where(KnowledgeChunk.kb_id.in_(list(kb_ids)), KnowledgeFile.status == "ready")
    )
    if file_ids is not None:
        query = query.where(KnowledgeChunk.file_id.in_(list(file_ids)))
    return list((await session.scalars(query)).all())


_WORD = re.compile(r"\w+", re.UNICODE)
BM25_RANK = "bm25(1.0, 0.5)"  # weights of the FTS tables' columns: text, heading
# Words that carry no topic; dropping them keeps OR-queries selective (and fast).
_STOPWORDS = frozenset(
    """a an and are as at be by can do does for from how i if in into is it its me my of on or
    that the their there these this to was what when where which who why will with you your""".split()
)


def fts_query(query: str) -> str | None:
    """A user's words as an FTS5 OR-query of quoted terms: no FTS5 syntax can get through, so
    any input is safe. None when nothing searchable is left."""
    words = [w for w in _WORD.findall(query.lower()) if w not in _STOPWORDS]
    if not words:
        words = _WORD.findall(query.lower())
    terms = list(dict.fromkeys(words))[:64]
    return " OR ".join(f'"{t}"' for t in terms) or None


async def bm25(
    session: AsyncSession,
    query: str,
    kb_ids: Collection[str],
    file_ids: Collection[str] | None,
    limit: int,
) -> list[tuple[int, float]]:
    """(chunk id, BM25 score) best first; higher is better (FTS5's bm25() is negated).

    A query written in Chinese or Japanese searches the bigram index of the chunks that contain
    such text (storage/cjk.py); if that finds fewer than `limit`, its other words (a product
    name, a command) search the English index too, and those hits follow, scored below.
    All of it in one hand-off to the connection's thread (db.run_on_connection)."""
    if not kb_ids:
        return []
    filters: dict[str, Any] = {"kb_ids": list(kb_ids), "limit": limit}
    if file_ids is not None:
        filters["file_ids"] = list(file_ids)

    def read(connection: sqlite3.Connection) -> list[tuple[int, float]]:
        if not cjk.is_cjk_query(query):
            return _bm25_in(connection, "knowledge_chunks_fts", fts_query(query), filters)
        found = _bm25_in(connection, cjk.TABLE, cjk.match_query(query), filters)
        other_words = " ".join(t for t in cjk.terms(query) if not cjk.has_cjk(t))
        if len(found) < limit and other_words:
            seen = {i for i, _ in found}
            floor = min((s for _, s in found), default=1.0)
            english = _bm25_in(connection, "knowledge_chunks_fts", fts_query(other_words), filters)
            top = max((s for _, s in english), default=1.0) or 1.0
            found += [(i, floor * 0.5 * s / top) for i, s in english if i not in seen]
        return found[:limit]

    return await run_on_connection(session, read)


def _bm25_in(
    connection: sqlite3.Connection, table: str, match: str | None, filters: dict[str, Any]
) -> list[tuple[int, float]]:
    if match is None:
        return []
    sql = bm25_sql(table, file_filter="file_ids" in filters)
    rows = connection.execute(*expand(sql, {"match": match, **filters}))
    return [(int(row[0]), float(row[1])) for row in rows]


def bm25_sql(table: str, *, file_filter: bool) -> str:
    """The BM25 query over one FTS table (`:match`, `:kb_ids` expanding, `:limit`, and
    `:file_ids` expanding with the filter). It orders by FTS5's `rank` column, its function set
    per query (the heading weighs half): FTS5 then sorts the matches itself and the joins stop
    after `limit` rows pass the filters. Ordered by `bm25(...)`, SQLite joined every match
    (thousands at 10k chunks) and sorted them in a temporary B-tree: same results, 18% more
    time (bench/retrieval)."""
    files = "AND c.file_id IN :file_ids " if file_filter else ""
    return (
        f"SELECT c.id, -{table}.rank AS score "
        f"FROM {table} "
        f"JOIN knowledge_chunks c ON c.id = {table}.rowid "
        "JOIN knowledge_files f ON f.id = c.file_id "
        f"WHERE {table} MATCH :match AND {table}.rank MATCH '{BM25_RANK}' "
        f"AND c.kb_id IN :kb_ids AND f.status = 'ready' {files}"
        f"ORDER BY {table}.rank LIMIT :limit"
    )
