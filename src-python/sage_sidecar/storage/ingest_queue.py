"""The ingest queue's writes, each in one hand-off to the connection's thread.

A file's way through the queue writes four times — queued (services/knowledge_files.py), then
claimed, chunks in, ready (knowledge/ingest.py) — and through SQLAlchemy's ORM each write cost the
event loop several ms of CPU (a session, an ORM object per row, three or four thread wake-ups per
statement: queuing a file took 16 of them): ~20 ms a file in all, on the cores the embedder needs
(bench/ingest/profile_ingest.py --stub). Here each write is plain SQL
run on the connection's own thread (`db.run_on_connection`) in one transaction that commits
there, and the rows come back as tuples. The queue's rules are the ORM code's: a file is claimed
only from `queued`, chunk ids are SQLite's AUTOINCREMENT ids in the order given, and only a file
still `embedding` becomes `ready`.
"""

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.storage import cjk
from sage_sidecar.storage.db import run_on_connection
from sage_sidecar.storage.knowledge import ACTIVE, NewChunk

T = TypeVar("T")

# Timestamps as the ORM writes them (`updated_at` has onupdate=utcnow there).
_dialect = sqlite.dialect()
_as_stored = DateTime(timezone=True).dialect_impl(_dialect).bind_processor(_dialect)
_as_read = DateTime(timezone=True).dialect_impl(_dialect).result_processor(_dialect, None)
_IDS_PER_STATEMENT = 500  # well under SQLite's limit of bound variables


def _now() -> str:
    assert _as_stored is not None
    stamp: str = _as_stored(datetime.now(UTC))
    return stamp


class FileRow(NamedTuple):
    """What a `knowledge.file` event says about a file."""

    id: str
    kb_id: str
    name: str
    status: str
    progress: float
    error: str | None
    chunk_count: int


class Claimed(NamedTuple):
    """A file taken from the queue (now `parsing`), with what its ingest needs of its base."""

    file: FileRow
    stored_path: str
    kind: str
    embedder: str
    chunk_tokens: int
    chunk_overlap: int
    embedding_dim: int | None
    leftovers: bool  # chunks of an interrupted attempt are there to remove first


class BaseCounts(NamedTuple):
    id: str
    status: str
    file_count: int
    chunk_count: int


def _committed(work: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
    """`work` in a transaction of its own that commits on the connection's thread (or rolls back,
    so a failed write leaves nothing behind and holds no lock)."""

    def run(connection: sqlite3.Connection) -> T:
        try:
            result = work(connection)
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        return result

    return run


_NEXT = "SELECT id FROM knowledge_files WHERE status = 'queued' ORDER BY created_at LIMIT 1"
_CLAIM = (
    "UPDATE knowledge_files SET status = 'parsing', error = NULL, progress = 0.0, "
    "attempts = attempts + 1, updated_at = ? WHERE id = ? AND status = 'queued' "
    "RETURNING id, kb_id, name, status, progress, error, chunk_count, stored_path, kind"
)
_BASE = (
    "SELECT embedder, chunk_tokens, chunk_overlap, embedding_dim FROM knowledge_bases WHERE id = ?"
)
_HAS_CHUNKS = "SELECT 1 FROM knowledge_chunks WHERE file_id = ? LIMIT 1"


def _claim(connection: sqlite3.Connection) -> Claimed | None:
    # Looked for before writing: an empty queue (the usual answer) takes no write lock.
    while (found := connection.execute(_NEXT).fetchone()) is not None:
        row = connection.execute(_CLAIM, (_now(), found[0])).fetchone()
        if row is None:  # deleted since the look: the next one
            connection.rollback()
            continue
        embedder, chunk_tokens, chunk_overlap, dim = connection.execute(_BASE, (row[1],)).fetchone()
        # An attempt cut off (a crash, a quit, a locked database) may have left chunks; a new or
        # re-indexed file has none, and then needs no clean-up of its own.
        leftovers = connection.execute(_HAS_CHUNKS, (row[0],)).fetchone() is not None
        return Claimed(FileRow(*row[:7]), row[7], row[8], embedder, chunk_tokens, chunk_overlap,
                       dim, leftovers)  # fmt: skip
    return None


async def claim_next(session: AsyncSession) -> Claimed | None:
    """The oldest queued file, now `parsing` with one more attempt counted; None if none."""
    return await run_on_connection(session, _committed(_claim))


_INSERT_CHUNK = (
    "INSERT INTO knowledge_chunks (kb_id, file_id, ordinal, text, heading, page, char_start, "
    "char_end, token_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)  # its FTS5 row follows by trigger (migration 0005)
_EMBEDDING = (
    "UPDATE knowledge_files SET status = 'embedding', chunk_count = ?, updated_at = ? "
    "WHERE id = ? RETURNING id, kb_id, name, status, progress, error, chunk_count"
)


async def store_chunks(
    session: AsyncSession, kb_id: str, file_id: str, chunks: Sequence[NewChunk]
) -> tuple[list[int], FileRow | None]:
    """A file's chunks (and their FTS rows) inserted and the file marked `embedding` with its
    chunk count, in one transaction. Returns the chunks' ids in order (they are also their vector
    ids) and the file's row (None if it was deleted meanwhile; its chunks then went with it)."""

    def write(connection: sqlite3.Connection) -> tuple[list[int], FileRow | None]:
        cursor = connection.cursor()
        ids: list[int] = []
        for c in chunks:
            cursor.execute(_INSERT_CHUNK, (kb_id, file_id, c.ordinal, c.text, c.heading, c.page,
                                           c.char_start, c.char_end, c.token_count))  # fmt: skip
            assert cursor.lastrowid is not None
            ids.append(cursor.lastrowid)
        rows = cjk.rows_for((i, c.text, c.heading) for i, c in zip(ids, chunks, strict=True))
        if rows:
            cursor.executemany(cjk.INSERT_SQL.text, rows)
        row = cursor.execute(_EMBEDDING, (len(chunks), _now(), file_id)).fetchone()
        return ids, FileRow(*row) if row else None

    return await run_on_connection(session, _committed(write))


async def write_progress(session: AsyncSession, file_id: str, progress: float) -> None:
    def write(connection: sqlite3.Connection) -> None:
        connection.execute(
            "UPDATE knowledge_files SET progress = ?, updated_at = ? WHERE id = ?",
            (progress, _now(), file_id),
        )

    await run_on_connection(session, _committed(write))


_COUNTS = (
    "SELECT count(*), coalesce(sum(chunk_count) FILTER (WHERE status = 'ready'), 0), "
    f"count(*) FILTER (WHERE status IN {ACTIVE!r}) FROM knowledge_files WHERE kb_id = ?"
)
_SET_COUNTS = (
    "UPDATE knowledge_bases SET file_count = ?, chunk_count = ?, status = ?, updated_at = ? "
    "WHERE id = ? RETURNING id, status, file_count, chunk_count"
)


def _recount(connection: sqlite3.Connection, kb_id: str) -> BaseCounts | None:
    """store.refresh_counts on this connection: a base's files, searchable chunks and status."""
    files, chunks, active = connection.execute(_COUNTS, (kb_id,)).fetchone()
    status = "indexing" if active else "ready"
    row = connection.execute(_SET_COUNTS, (files, chunks, status, _now(), kb_id)).fetchone()
    return BaseCounts(*row) if row else None


async def mark_ready(
    session: AsyncSession, kb_id: str, file_ids: Sequence[str]
) -> tuple[list[FileRow], BaseCounts | None]:
    """These files of one base become `ready` (those still `embedding`: one deleted or queued
    again meanwhile is left alone) and the base is recounted, in one transaction."""

    def write(connection: sqlite3.Connection) -> tuple[list[FileRow], BaseCounts | None]:
        ready: list[FileRow] = []
        now = _now()
        for start in range(0, len(file_ids), _IDS_PER_STATEMENT):
            part = file_ids[start : start + _IDS_PER_STATEMENT]
            rows = connection.execute(
                "UPDATE knowledge_files SET status = 'ready', progress = 1.0, updated_at = ? "
                f"WHERE id IN ({', '.join('?' * len(part))}) AND status = 'embedding' "
                "RETURNING id, kb_id, name, status, progress, error, chunk_count",
                (now, *part),
            ).fetchall()
            ready += [FileRow(*row) for row in rows]
        order = {file_id: n for n, file_id in enumerate(file_ids)}  # RETURNING's order is not set
        ready.sort(key=lambda row: order[row.id])
        return ready, _recount(connection, kb_id)

    return await run_on_connection(session, _committed(write))


_FILE_FIELDS = (
    "id",
    "kb_id",
    "name",
    "kind",
    "size",
    "sha256",
    "status",
    "error",
    "progress",
    "chunk_count",
    "created_at",
    "updated_at",
)  # fmt: skip  (schemas' KnowledgeFileOut)
_SAME_CONTENT = (
    f"SELECT {', '.join(_FILE_FIELDS)} FROM knowledge_files WHERE kb_id = ? AND sha256 = ?"
)
_QUEUE = (
    "INSERT INTO knowledge_files (id, kb_id, name, stored_path, kind, size, sha256, status, error, "
    "progress, chunk_count, attempts, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', NULL, 0.0, 0, 0, ?, ?) "
    f"ON CONFLICT (kb_id, sha256) DO NOTHING RETURNING {', '.join(_FILE_FIELDS)}"
)


class NewFile(NamedTuple):
    id: str
    kb_id: str
    name: str
    stored_path: str
    kind: str
    size: int
    sha256: str


def _fields(row: Sequence[Any]) -> dict[str, Any]:
    fields = dict(zip(_FILE_FIELDS, row, strict=True))
    assert _as_read is not None
    fields["created_at"] = _as_read(fields["created_at"])
    fields["updated_at"] = _as_read(fields["updated_at"])
    return fields


class Queued(NamedTuple):
    file: dict[str, Any]  # KnowledgeFileOut's fields
    duplicate: bool  # the base had this content already: `file` is that file, nothing was added
    base: BaseCounts | None  # the base recounted after a new file


async def queue_file(session: AsyncSession, new: NewFile, place: Callable[[], None]) -> Queued:
    """Queue a staged file, or find the file of the same content the base already has (then the
    staged copy is not placed). `place` moves the staged copy to its stored path after the row is
    written and before it is committed: a crash between the two leaves a stray copy, never a
    queued file without its bytes."""

    def write(connection: sqlite3.Connection) -> Queued:
        same = connection.execute(_SAME_CONTENT, (new.kb_id, new.sha256)).fetchone()
        if same is None:
            now = _now()
            row = connection.execute(_QUEUE, (*new, now, now)).fetchone()
            if row is not None:
                place()
                return Queued(_fields(row), False, _recount(connection, new.kb_id))
            # The same content added by a concurrent request meanwhile.
            same = connection.execute(_SAME_CONTENT, (new.kb_id, new.sha256)).fetchone()
        return Queued(_fields(same), True, None)

    return await run_on_connection(session, _committed(write))
