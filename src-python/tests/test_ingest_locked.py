"""The ingest worker outlives "database is locked": a writer elsewhere holds SQLite's write lock
past the busy timeout while the worker claims a file or writes a file's chunks; the worker waits
and carries on, and the file ends ready, not failed or stuck."""

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.app_state import AppState
from sage_sidecar.storage import db as storage_db
from sage_sidecar.storage import locked

from knowledge_client import create_base, upload, wait_indexed

LOCK_HIT_TIMEOUT_S = 30


@pytest.fixture
def short_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock turns into "database is locked" after 50 ms instead of 5 s (the test's pace)."""
    monkeypatch.setattr(storage_db, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(locked, "FIRST_DELAY_S", 0.05)
    monkeypatch.setattr(locked, "MAX_DELAY_S", 0.4)


@contextmanager
def write_lock_held(db: Path, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Another connection holds the write lock (as a long write or another process would) until
    the worker has run into it: it logs a warning about it, whether it copes or not."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        deadline = time.monotonic() + LOCK_HIT_TIMEOUT_S
        while "locked" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # and a few retries more
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def status_of(db: Path, file_id: str) -> tuple[str, int]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status, attempts FROM knowledge_files WHERE id = ?",
                            (file_id,)).fetchone()  # fmt: skip


def test_a_lock_while_the_worker_claims_a_file(short_locks, client: TestClient, auth, caplog):
    state: AppState = client.app.state.sage  # type: ignore[attr-defined]
    db = state.settings.db_path
    kb = create_base(client, auth)
    [first] = upload(client, auth, kb["id"], ("a.txt", b"Tomatoes like sun.\n" * 20)).json()
    wait_indexed(client, auth, kb["id"])
    with sqlite3.connect(db) as conn:  # a second file, queued behind the worker's back
        columns = [r[1] for r in conn.execute("PRAGMA table_info(knowledge_files)")]
        fresh = {"id": "'queued-copy'", "name": "'b.txt'", "sha256": "'other'",
                 "status": "'queued'", "progress": "0", "chunk_count": "0", "attempts": "0"}  # fmt: skip
        conn.execute(f"INSERT INTO knowledge_files ({', '.join(columns)}) SELECT "
                     f"{', '.join(fresh.get(c, c) for c in columns)} FROM knowledge_files "
                     "WHERE id = ?", (first["id"],))  # fmt: skip
    caplog.set_level(logging.WARNING)
    with write_lock_held(db, caplog):
        client.portal.call(state.knowledge.worker.wake)  # type: ignore[union-attr]
    files = {f["id"]: f for f in wait_indexed(client, auth, kb["id"], timeout=30)}
    assert files["queued-copy"]["status"] == "ready", files["queued-copy"]
    assert "database is locked" in caplog.text  # the worker did run into the lock
    # The worker is still there for the next file.
    [later] = upload(client, auth, kb["id"], ("c.txt", b"Basil likes warmth.\n" * 20)).json()
    files = {f["id"]: f for f in wait_indexed(client, auth, kb["id"], timeout=60)}
    assert files[later["id"]]["status"] == "ready", files[later["id"]]


def test_a_lock_while_the_worker_writes_a_file(short_locks, client: TestClient, auth, caplog):
    state: AppState = client.app.state.sage  # type: ignore[attr-defined]
    db = state.settings.db_path
    kb = create_base(client, auth)
    text = "".join(f"## Part {i}\n\nParagraph {i} about the garden and its beds.\n\n"
                   for i in range(1500)).encode()  # fmt: skip
    caplog.set_level(logging.WARNING)
    [added] = upload(client, auth, kb["id"], ("long.md", text)).json()
    deadline = time.monotonic() + 30
    while status_of(db, added["id"])[0] == "queued" and time.monotonic() < deadline:
        time.sleep(0.002)
    assert status_of(db, added["id"])[0] in ("parsing", "embedding")  # mid-file
    with write_lock_held(db, caplog):  # its chunks, status or progress cannot be written
        pass
    [file] = wait_indexed(client, auth, kb["id"], timeout=60)
    assert file["status"] == "ready", file
    assert file["chunk_count"] > 100
    assert "database is locked" in caplog.text  # the worker did run into the lock
    assert status_of(db, added["id"])[1] == 1  # a lock is not counted as an attempt
