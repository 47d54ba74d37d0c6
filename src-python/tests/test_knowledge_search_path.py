"""The hybrid search path's cost (issue #18: p50 ≤ 40 ms over HTTP at 10k chunks): what each
search does, and that doing less changes no result. A real base ingested through the app (SQLite
on disk, the offline embedder, the vector index), then `knowledge.search` called in-process on its
own connection with instrumented pieces. bench/retrieval/bench_http.py measures the figures."""

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import numpy
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from sage_sidecar.app import create_app
from sage_sidecar.core.config import Settings
from sage_sidecar.knowledge.embedders import local_embedder
from sage_sidecar.knowledge.indexes import IndexCache
from sage_sidecar.knowledge.search import Hit, Mode, Query, search
from sage_sidecar.storage import cipher, cjk, sqlite_driver
from sage_sidecar.storage import knowledge as store
from sage_sidecar.storage.db import Database

from conftest import TEST_ORIGIN
from knowledge_client import create_base, upload, wait_indexed
from knowledge_client import search as search_api

DOCS = {
    "tea.md": "# Tea\n\nGreen tea is brewed with water at about eighty degrees; boiling water "
    "scalds the leaves and makes the cup bitter.\n",
    "bikes.md": "# Bikes\n\nA dry chain squeaks and rusts. Clean and oil it every few hundred "
    "kilometres, then wipe off what is left.\n",
    "backup.md": "# Backups\n\nKeep three copies of important files: two on different local "
    "disks and one somewhere else. Test that a backup restores.\n",
}
QUESTION = "how hot should the water be for green tea"


@pytest.fixture
def library(settings: Settings, auth: dict[str, str]) -> Iterator[str]:
    """A base with three small files, indexed by the real app; yields its id."""
    with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
        kb = create_base(client, auth)
        upload(client, auth, kb["id"], *((n, t.encode()) for n, t in DOCS.items()))
        wait_indexed(client, auth, kb["id"])
        yield kb["id"]


class SlowEmbedder:
    """The offline model, but each query embedding first waits for `gate` (up to 5 s)."""

    id = "local:all-minilm-l6-v2"
    dim = 384

    def __init__(self, gate: asyncio.Event) -> None:
        self.gate = gate

    async def embed(self, texts: list[str]) -> numpy.ndarray:
        await asyncio.wait_for(self.gate.wait(), 5)
        return await local_embedder().embed(texts)


def run_search(
    settings: Settings, query: Query, embedder_for: Callable[[str], Awaitable[Any]]
) -> list[Hit]:
    async def go() -> list[Hit]:
        db = Database(settings.db_path)
        try:
            async with db.session() as session:
                return await search(session, IndexCache(settings.vectors_dir), embedder_for, query)
        finally:
            await db.dispose()

    return asyncio.run(go())


def test_bm25_runs_while_the_query_is_embedded(
    settings: Settings, library: str, monkeypatch: pytest.MonkeyPatch
):
    """The query embedding waits until BM25 has started: run one after the other, the search
    would time out; side by side, it returns the same hits as a plain search."""
    expected = run_search(settings, Query(QUESTION, [library]), _local)
    gate = asyncio.Event()  # bound to the loop of the search that first waits on it
    bm25 = store.bm25

    async def bm25_opens_the_gate(*args: Any, **kwargs: Any) -> list[tuple[int, float]]:
        gate.set()
        return await bm25(*args, **kwargs)

    async def slow(_embedder_id: str) -> SlowEmbedder:
        return SlowEmbedder(gate)

    monkeypatch.setattr(store, "bm25", bm25_opens_the_gate)
    hits = run_search(settings, Query(QUESTION, [library]), slow)
    assert [(h.chunk.id, h.score) for h in hits] == [(h.chunk.id, h.score) for h in expected]
    assert hits[0].chunk.file_name == "tea.md" and hits[0].vector_rank == 1


async def _local(_embedder_id: str) -> Any:
    return local_embedder()


def test_only_the_returned_passages_text_is_read(
    settings: Settings, library: str, monkeypatch: pytest.MonkeyPatch
):
    """~100 fused candidates, one hit asked: one row is read, not every candidate's text."""
    asked: list[int] = []
    ready_chunks = store._ready_chunks

    def counting(connection: Any, ids: Any) -> dict[int, store.ChunkRow]:
        asked.append(len(ids))
        return ready_chunks(connection, ids)

    monkeypatch.setattr(store, "_ready_chunks", counting)
    hits = run_search(settings, Query(QUESTION, [library], top_k=1), _local)
    assert [h.chunk.file_name for h in hits] == ["tea.md"]
    assert asked == [1]


def test_a_candidate_whose_file_is_not_ready_gives_way_to_the_next(
    settings: Settings, library: str
):
    """The best vector of a file still being indexed is skipped, and the next candidate is read
    to fill the place (a second, wider read)."""
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute("UPDATE knowledge_files SET status = 'embedding' WHERE name = 'tea.md'")
    hits = run_search(settings, Query(QUESTION, [library], top_k=2, mode="vector"), _local)
    assert len(hits) == 2 and "tea.md" not in {h.chunk.file_name for h in hits}
    assert [h.vector_rank for h in hits] == [2, 3]  # rank 1 was tea.md's


@pytest.mark.parametrize("file_filter", [False, True])
@pytest.mark.parametrize("table", ["knowledge_chunks_fts", cjk.TABLE])
def test_bm25_lets_fts5_sort_and_scores_as_bm25_with_half_weight_headings(
    settings: Settings, library: str, table: str, file_filter: bool
):
    """FTS5 orders by its rank (no temporary B-tree sorting every joined match), and the scores
    are bm25() with the heading at half weight, as before."""
    params: dict[str, Any] = {
        "match": '"water" OR "chain" OR "copies"',
        "kb_ids": [library],
        "limit": 50,
    }
    if file_filter:
        params["file_ids"] = [f for (f,) in _rows(settings, "SELECT id FROM knowledge_files")]
    sql = store.bm25_sql(table, file_filter=file_filter)
    plan = " | ".join(row[3] for row in _rows(settings, "EXPLAIN QUERY PLAN " + sql, params))
    assert "TEMP B-TREE" not in plan and f"SCAN {table} VIRTUAL TABLE" in plan, plan
    if table == cjk.TABLE:
        return  # the library is English: its bigram table is empty
    found = _rows(settings, sql, params)
    reference = _rows(settings, sql.replace(f"-{table}.rank", f"-bm25({table}, 1.0, 0.5)"), params)
    assert len(found) == 3 and found == reference


def _rows(settings: Settings, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    with sqlite3.connect(settings.db_path) as conn:
        return conn.execute(*store.expand(sql, params or {})).fetchall()


def test_search_reads_an_encrypted_database_through_its_keyed_connection(
    settings: Settings, auth: dict[str, str]
):
    """The search's SQL runs on the session's own connection (db.run_on_connection), which
    SQLCipher keyed: the same hits after the database is encrypted."""
    cipher.forget_keys()
    try:
        with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
            kb = create_base(client, auth)
            upload(client, auth, kb["id"], *((n, t.encode()) for n, t in DOCS.items()))
            wait_indexed(client, auth, kb["id"])
            before = search_api(client, auth, QUESTION, [kb["id"]], top_k=3)
            asked = client.put("/api/privacy/database", json={"encrypted": True}, headers=auth)
            assert asked.status_code == 200, asked.text
        with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
            assert cipher.is_encrypted(settings.db_path)
            for mode in ("hybrid", "bm25"):
                after = search_api(client, auth, QUESTION, [kb["id"]], top_k=3, mode=mode)
                assert after[0]["file_name"] == "tea.md"
                if mode == "hybrid":
                    assert after == before
    finally:
        cipher.forget_keys()


@pytest.mark.parametrize(("mode", "reads"), [("hybrid", 3), ("bm25", 2), ("vector", 2)])
def test_a_search_hands_its_sql_to_the_database_thread_once_per_read(
    settings: Settings, library: str, monkeypatch: pytest.MonkeyPatch, mode: Mode, reads: int
):
    """Each read (the bases, BM25, the rows) is one hand-off to the connection's thread, not
    three or four per statement through the DB-API adapter (cursor, execute, fetch, close):
    under load each hand-off is a wait for a core. Before: 13 in hybrid mode."""
    handoffs: list[str] = []
    execute = sqlite_driver.CancelSafeConnection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        handoffs.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kwargs)

    async def go() -> list[Hit]:
        db = Database(settings.db_path)
        try:
            async with db.session() as session:
                await session.execute(text("SELECT 1"))  # the connection is open and set up
                monkeypatch.setattr(sqlite_driver.CancelSafeConnection, "_execute", counting)
                indexes = IndexCache(settings.vectors_dir)
                hits = await search(session, indexes, _local, Query(QUESTION, [library], mode=mode))
                monkeypatch.undo()
                return hits
        finally:
            await db.dispose()

    hits = asyncio.run(go())
    assert hits[0].chunk.file_name == "tea.md"
    assert handoffs == ["<lambda>"] * reads, handoffs


def test_an_open_index_is_found_on_the_loop_and_opened_by_a_thread_once(
    settings: Settings, library: str, monkeypatch: pytest.MonkeyPatch
):
    """Opening an index reads files, so a thread does it, once; after that a search (and MMR,
    which asked once per candidate) finds it without handing off to a thread."""
    opened: list[str] = []
    existing = IndexCache.existing

    def counting(self: IndexCache, kb_id: str, dim: int | None) -> Any:
        opened.append(kb_id)
        return existing(self, kb_id, dim)

    monkeypatch.setattr(IndexCache, "existing", counting)

    async def go() -> list[list[Hit]]:
        db = Database(settings.db_path)
        indexes = IndexCache(settings.vectors_dir)
        try:
            async with db.session() as session:
                query = Query(QUESTION, [library], top_k=2, use_mmr=True)
                return [await search(session, indexes, _local, query) for _ in range(3)]
        finally:
            await db.dispose()

    results = asyncio.run(go())
    assert results[0] == results[1] == results[2] and results[0][0].chunk.file_name == "tea.md"
    assert opened == [library]


def test_a_read_on_the_connection_sees_what_the_session_has_not_flushed(settings: Settings):
    """Like session.execute's autoflush: a base added in the session is among the bases read."""
    from sage_sidecar.storage.models import KnowledgeBase

    async def go() -> list[store.BaseRow]:
        db = Database(settings.db_path)
        try:
            async with db.session() as session:
                session.add(KnowledgeBase(id="kb-unflushed", name="new", embedder="local:x"))
                return await store.bases_by_id(session, ["kb-unflushed"])
        finally:
            await db.dispose()

    with TestClient(create_app(settings), base_url=TEST_ORIGIN):
        pass  # the database, migrated
    assert [kb.id for kb in asyncio.run(go())] == ["kb-unflushed"]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc (Linux)")
def test_numpy_multiplies_on_the_calling_thread_in_the_sidecar():
    """OpenBLAS starts no worker threads (they spin on a busy machine: 9x the CPU of a 10k-row
    vector search), whatever numpy loads through; a process without the setting gets them."""
    probe = (
        "import os, sys\n"
        "if sys.argv[1] == 'sidecar': import sage_sidecar.knowledge.vectors\n"
        "import numpy\n"
        "numpy.ones((10_000, 384), dtype=numpy.float32) @ numpy.ones(384, dtype=numpy.float32)\n"
        "print(len(os.listdir('/proc/self/task')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    threads = {
        who: int(subprocess.run([sys.executable, "-c", probe, who], env=env, capture_output=True,
                                text=True, timeout=60, check=True).stdout)
        for who in ("sidecar", "plain")
    }  # fmt: skip
    assert threads["sidecar"] == 1
    if (os.cpu_count() or 1) > 1:
        assert threads["plain"] > 1  # the probe sees the threads when they are there


def test_passages_are_read_by_id_however_many_are_asked(settings: Settings, library: str):
    """The rows of 100 candidates are found by their ids, not by walking every ready file (the
    planner's choice from 12 ids on: 22 ms of CPU at 10k chunks, 0.25 ms by id)."""
    ids = list(range(1, 101))
    plan = [
        row[3] for row in _rows(settings, "EXPLAIN QUERY PLAN " + store.CHUNK_SQL, {"ids": ids})
    ]
    assert plan[0].startswith("SEARCH c USING INTEGER PRIMARY KEY"), plan
