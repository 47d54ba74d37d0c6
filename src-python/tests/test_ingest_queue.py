"""The ingest worker's writes in one hand-off each (storage/ingest_queue.py), on a migrated SQLite
database on disk, plain and encrypted: a claim takes the oldest queued file once; a file's chunks
keep their order, their file, their FTS rows; a failed write leaves nothing and holds no lock;
only files still `embedding` become ready, and the base is recounted; a raw "database is locked"
is recognised as one."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3.dbapi2
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from sage_sidecar.storage import cipher, cjk, conversion, locked
from sage_sidecar.storage import ingest_queue as queue
from sage_sidecar.storage import knowledge as store
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.migrate import upgrade_to_head
from sage_sidecar.storage.models import KnowledgeBase, KnowledgeFile, utcnow

STEP_S = 10  # bound on every database step of these tests


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    text: Any
    heading: str | None = None
    page: int | None = None
    char_start: int = 0
    char_end: int = 0
    token_count: int = 1


@pytest.fixture(autouse=True)
def fresh_key_cache() -> Iterator[None]:
    cipher.forget_keys()  # each test has its own keychain file
    yield
    cipher.forget_keys()


@pytest.fixture(params=["plain", "encrypted"])
async def db(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    path = tmp_path / "agent_platform.db"
    upgrade_to_head(path)
    if request.param == "encrypted":
        conversion.request(path, "encrypted")
        conversion.apply_pending(path)
        assert cipher.is_encrypted(path)
    database = Database(path)
    async with database.session() as session:
        await cjk.ensure_index(session)
        session.add(KnowledgeBase(id="kb", name="Notes", embedder="local:x", chunk_tokens=120,
                                  chunk_overlap=20, embedding_dim=384))  # fmt: skip
        await session.commit()
    try:
        yield database
    finally:
        await database.dispose()


async def add_file(db: Database, file_id: str, status: str = "queued") -> None:
    async with db.session() as session:
        session.add(KnowledgeFile(id=file_id, kb_id="kb", name=f"{file_id}.txt",
                                  stored_path=f"kb/{file_id}.txt", kind="txt", size=1,
                                  sha256=file_id, status=status))  # fmt: skip
        await session.commit()


async def call(db: Database, write: Callable[..., Any], *args: Any) -> Any:
    async with db.session() as session:
        return await asyncio.wait_for(write(session, *args), STEP_S)


async def file_row(db: Database, file_id: str) -> KnowledgeFile | None:
    async with db.session() as session:
        return await session.get(KnowledgeFile, file_id)


async def test_the_oldest_queued_file_is_claimed_once_with_its_base_settings(db: Database):
    await add_file(db, "first")
    await add_file(db, "second")
    before = utcnow().replace(tzinfo=None)
    claimed = await call(db, queue.claim_next)
    assert claimed == queue.Claimed(
        queue.FileRow("first", "kb", "first.txt", "parsing", 0.0, None, 0),
        "kb/first.txt", "txt", "local:x", 120, 20, 384, leftovers=False)  # fmt: skip
    file = await file_row(db, "first")
    assert file is not None and file.attempts == 1
    assert isinstance(file.updated_at, datetime) and file.updated_at >= before  # the ORM reads it
    assert (await call(db, queue.claim_next)).file.id == "second"
    assert await call(db, queue.claim_next) is None  # nothing queued: nothing written


async def test_a_claim_sees_chunks_an_interrupted_attempt_left(db: Database):
    await add_file(db, "cut")
    await call(db, queue.claim_next)
    await call(db, queue.store_chunks, "kb", "cut", [Chunk(0, "left behind")])
    async with db.session() as session:  # recover(): queued again after a crash
        await session.execute(text("UPDATE knowledge_files SET status = 'queued'"))
        await session.commit()
    claimed = await call(db, queue.claim_next)
    assert claimed.leftovers and claimed.file.id == "cut"
    assert (await file_row(db, "cut")).attempts == 2  # type: ignore[union-attr]


async def test_chunks_keep_their_order_file_and_search_rows(db: Database):
    await add_file(db, "a", status="parsing")
    await add_file(db, "b", status="parsing")
    a = [Chunk(n, f"alpha passage {n} about tomatoes") for n in range(300)]
    ids_a, row_a = await call(db, queue.store_chunks, "kb", "a", a)
    ids_b, row_b = await call(db, queue.store_chunks, "kb", "b",
                              [Chunk(0, "番茄喜欢阳光", heading="园艺"), Chunk(1, "basil")])  # fmt: skip
    assert ids_a == sorted(ids_a) and len(set(ids_a)) == 300 and ids_b[0] > ids_a[-1]
    assert row_a == queue.FileRow("a", "kb", "a.txt", "embedding", 0.0, None, 300)
    assert row_b.chunk_count == 2 and row_b.status == "embedding"
    async with db.session() as session:
        stored = (await session.execute(
            text("SELECT id, file_id, ordinal FROM knowledge_chunks ORDER BY id"))).all()  # fmt: skip
        assert [tuple(r) for r in stored] == [
            *((i, "a", n) for n, i in enumerate(ids_a)),
            (ids_b[0], "b", 0),
            (ids_b[1], "b", 1),
        ]
        assert await store.chunk_ids(session, ["b"]) == ids_b
        fts = (await session.execute(text(
            "SELECT rowid FROM knowledge_chunks_fts WHERE knowledge_chunks_fts MATCH 'tomatoes' "
            "ORDER BY rowid"))).scalars().all()  # fmt: skip
        assert list(fts) == ids_a
        bigrams = (await session.execute(text(
            f"SELECT rowid FROM {cjk.TABLE} WHERE {cjk.TABLE} MATCH '\"阳光\"'"))).scalars().all()  # fmt: skip
        assert list(bigrams) == [ids_b[0]]  # only the chunk with Chinese text is in the CJK index


async def test_a_failed_write_leaves_nothing_and_holds_no_lock(db: Database):
    await add_file(db, "bad", status="parsing")
    broken = [Chunk(0, "fine"), Chunk(1, None)]  # text is NOT NULL: the second insert fails
    with pytest.raises((sqlite3.Error, sqlcipher3.dbapi2.Error)):
        await call(db, queue.store_chunks, "kb", "bad", broken)
    async with db.session() as session:
        assert await store.chunk_ids(session, ["bad"]) == []
        assert (await session.get(KnowledgeFile, "bad")).status == "parsing"  # type: ignore[union-attr]
    # The transaction was rolled back: another connection takes the write lock at once.
    other = (
        cipher.connect_sync(db.path) if cipher.is_encrypted(db.path) else sqlite3.connect(db.path)
    )
    try:
        other.execute("PRAGMA busy_timeout = 0")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_chunks_of_a_file_deleted_meanwhile_are_refused(db: Database):
    await add_file(db, "gone", status="parsing")
    async with db.session() as session:
        await session.execute(text("DELETE FROM knowledge_files WHERE id = 'gone'"))
        await session.commit()
    with pytest.raises(Exception, match="FOREIGN KEY"):
        await call(db, queue.store_chunks, "kb", "gone", [Chunk(0, "orphan")])
    async with db.session() as session:
        assert await store.chunk_ids(session, ["gone"]) == []


async def test_only_files_still_embedding_become_ready_and_the_base_is_recounted(db: Database):
    for file_id in ("x", "y", "z"):
        await add_file(db, file_id, status="parsing")
    await call(db, queue.store_chunks, "kb", "x", [Chunk(0, "one"), Chunk(1, "two")])
    await call(db, queue.store_chunks, "kb", "z", [Chunk(0, "three")])
    async with db.session() as session:  # y was deleted and queued again meanwhile
        await session.execute(text("UPDATE knowledge_files SET status = 'queued' WHERE id = 'y'"))
        await session.commit()
    ready, base = await call(db, queue.mark_ready, "kb", ["z", "y", "x"])
    assert [(f.id, f.status, f.progress, f.chunk_count) for f in ready] == [
        ("z", "ready", 1.0, 1),
        ("x", "ready", 1.0, 2),
    ]  # in the order asked
    assert base == queue.BaseCounts("kb", "indexing", 3, 3)  # y is still to do
    async with db.session() as session:
        kb = await session.get(KnowledgeBase, "kb")
        assert (kb.file_count, kb.chunk_count, kb.status) == (3, 3, "indexing")  # type: ignore[union-attr]
        await session.execute(text("DELETE FROM knowledge_files WHERE id = 'y'"))
        await session.commit()
    assert (await call(db, queue.mark_ready, "kb", []))[1] == queue.BaseCounts("kb", "ready", 2, 3)


async def test_progress_is_written(db: Database):
    await add_file(db, "p", status="embedding")
    await call(db, queue.write_progress, "p", 0.5)
    assert (await file_row(db, "p")).progress == 0.5  # type: ignore[union-attr]


async def test_a_raw_database_is_locked_is_recognised_and_waited_out(monkeypatch):
    raw = sqlite3.OperationalError("database is locked")
    assert locked.is_database_locked(raw)
    assert not locked.is_database_locked(sqlite3.OperationalError("no such table: x"))
    assert not locked.is_database_locked(IntegrityError("x", {}, sqlite3.IntegrityError("locked")))
    monkeypatch.setattr(locked, "FIRST_DELAY_S", 0.01)
    tries: list[int] = []

    async def flaky() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise sqlite3.OperationalError("database is locked")
        return "done"

    assert await asyncio.wait_for(locked.retry_while_locked("test", flaky), STEP_S) == "done"
    assert len(tries) == 3


async def test_a_file_is_queued_once_per_content_and_placed_before_its_commit(db: Database):
    placed: list[bool] = []

    def place() -> None:  # the row is written but not committed yet when the copy is placed
        other = (
            cipher.connect_sync(db.path)
            if cipher.is_encrypted(db.path)
            else sqlite3.connect(db.path)
        )
        try:
            placed.append(other.execute("SELECT count(*) FROM knowledge_files").fetchone()[0] == 0)
        finally:
            other.close()

    new = queue.NewFile("n1", "kb", "a.txt", "kb/n1.txt", "txt", 5, "same-hash")
    first = await call(db, queue.queue_file, new, place)
    assert not first.duplicate and placed == [True]
    assert {k: first.file[k] for k in ("id", "status", "progress", "chunk_count", "error")} == {
        "id": "n1",
        "status": "queued",
        "progress": 0.0,
        "chunk_count": 0,
        "error": None,
    }
    assert isinstance(first.file["created_at"], datetime)
    assert first.base == queue.BaseCounts("kb", "indexing", 1, 0)
    again = await call(db, queue.queue_file, new._replace(id="n2", name="b.txt"), place)
    assert again.duplicate and again.file["id"] == "n1" and again.base is None
    assert placed == [True]  # a duplicate's copy is not placed
    claimed = await call(db, queue.claim_next)
    assert (claimed.file.id, claimed.stored_path, claimed.kind) == ("n1", "kb/n1.txt", "txt")


async def test_a_failed_placement_queues_nothing(db: Database):
    def place() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        await call(db, queue.queue_file, queue.NewFile("f", "kb", "f.txt", "kb/f.txt", "txt", 1,
                                                       "h"), place)  # fmt: skip
    assert await call(db, queue.claim_next) is None


async def test_the_same_content_queued_meanwhile_is_returned_as_the_duplicate(db: Database):
    async with db.session() as session:  # another request's file lands between look and insert
        await session.execute(text(
            "CREATE TRIGGER race BEFORE INSERT ON knowledge_files WHEN NEW.id = 'late' BEGIN "
            "INSERT INTO knowledge_files SELECT 'early', kb_id, 'early.txt', stored_path, kind, "
            "size, sha256, status, error, progress, chunk_count, attempts, created_at, "
            "updated_at FROM (SELECT NEW.kb_id AS kb_id, NEW.stored_path AS stored_path, "
            "NEW.kind AS kind, NEW.size AS size, NEW.sha256 AS sha256, 'queued' AS status, "
            "NULL AS error, 0.0 AS progress, 0 AS chunk_count, 0 AS attempts, "
            "NEW.created_at AS created_at, NEW.updated_at AS updated_at); END"))  # fmt: skip
        await session.commit()
    placed: list[str] = []
    new = queue.NewFile("late", "kb", "late.txt", "kb/late.txt", "txt", 1, "raced")
    raced = await call(db, queue.queue_file, new, lambda: placed.append("late"))
    assert raced.duplicate and raced.file["id"] == "early" and not placed


def test_adding_a_file_while_another_writer_holds_the_lock_is_a_503_to_retry(
    monkeypatch: pytest.MonkeyPatch, settings, auth, tmp_path: Path
):
    """The driver's own "database is locked" (raised on the connection's thread, not wrapped by
    SQLAlchemy) is answered like SQLAlchemy's: 503 storage.busy, not a 500."""
    from fastapi.testclient import TestClient

    from sage_sidecar.app import create_app
    from sage_sidecar.storage import db as storage_db

    from conftest import TEST_ORIGIN
    from knowledge_client import create_base

    monkeypatch.setattr(storage_db, "BUSY_TIMEOUT_MS", 50)
    note = tmp_path / "note.txt"
    note.write_text("Tomatoes like sun.")
    with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
        kb = create_base(client, auth)
        url = f"/api/knowledge/bases/{kb['id']}/files/paths"
        holder = sqlite3.connect(settings.db_path, timeout=0, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # the write lock, held
            busy = client.post(url, json={"paths": [str(note)]}, headers=auth)
            assert busy.status_code == 503, busy.text
            assert busy.json()["code"] == "storage.busy"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        added = client.post(url, json={"paths": [str(note)]}, headers=auth)
        assert added.status_code == 201, added.text
        assert added.json()[0]["duplicate"] is False  # the refused add left nothing behind
